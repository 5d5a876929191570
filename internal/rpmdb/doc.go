// Package rpmdb reads the package database of rpm in pure Go.
//
// rpm has stored its database in three formats over the years, and all three
// are still found in images:
//
//   - [BerkeleyDB]: a Berkeley DB hash database named Packages, in
//     var/lib/rpm (RHEL and CentOS up to 8, Amazon Linux 2, older SUSE).
//   - [NDB]: rpm's own format, Packages.db, in usr/lib/sysimage/rpm (SUSE
//     since 15 SP3 and openSUSE).
//   - [SQLite]: rpmdb.sqlite (RHEL 9 and later, Fedora 33 and later).
//
// Each stores one header blob per installed package, keyed by the header
// instance number. A blob is the rpm header format without its 8-byte magic:
// an index of typed entries followed by a data store, which [ParseHeader]
// reads and [ParsePackage] turns into a [Package].
//
// Reading is a pure function of bytes: [ReadBerkeleyDB] and [ReadNDB] take an
// [io.ReaderAt] and a size and never write, lock or log. [ReadSQLite] is the
// exception: the SQLite library reads only files, so its caller must provide
// a path (for instance a temporary copy of a file from an image). [Detect]
// tells the formats apart by their first bytes, and [ReadFile] does the whole
// job for a file on disk.
//
// Every offset, count and length read from a database is checked against the
// size of what holds it before use, so a corrupt or hostile database gives an
// error wrapping [ErrCorrupt], never a panic, an endless loop or an allocation
// larger than the input.
package rpmdb
