package main

import "syscall"

// syscallAlive reports (as nil) whether process pid exists.
func syscallAlive(pid int) error { return syscall.Kill(pid, 0) }
