// Command dbimport measures the vulnerability database import: it builds a
// store in a temporary directory from every <ecosystem>/all.zip under -data
// and prints, per source and in total, the records read and stored, the
// time, records per second and the store's size.
//
// Usage:
//
//	go run ./bench/dbimport [-data ../shared/data/osv] [-runs 1] [-keep DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kubeshield/kubeshield/internal/vulndb"
)

func main() {
	data := flag.String("data", "../shared/data/osv", "directory holding <ecosystem>/all.zip")
	runs := flag.Int("runs", 1, "builds to time (the fastest is reported)")
	keep := flag.String("keep", "", "directory to write the store to (default: a removed temporary directory)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *data, *runs, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "dbimport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, data string, runs int, keep string) error {
	zips, err := filepath.Glob(filepath.Join(data, "*", "all.zip"))
	if err != nil || len(zips) == 0 {
		return fmt.Errorf("no */all.zip under %s", data)
	}
	var zipBytes int64
	for _, z := range zips {
		if fi, err := os.Stat(z); err == nil {
			zipBytes += fi.Size()
		}
	}
	dir := keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dbimport-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "vuln.db")
	var best time.Duration
	var st vulndb.Status
	var peak uint64
	for i := 0; i < max(runs, 1); i++ {
		runtime.GC()
		start := time.Now()
		st, err = vulndb.Build(ctx, path, nil, func(w *vulndb.Writer) error {
			for _, z := range zips {
				if _, err := w.Import(ctx, vulndb.Source{Path: z}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapSys)
	}

	fmt.Printf("%-14s %8s %8s %6s %9s %8s\n", "source", "entries", "stored", "dups", "withdrawn", "skipped")
	entries := 0
	for _, s := range st.Sources {
		entries += s.Entries
		fmt.Printf("%-14s %8d %8d %6d %9d %8d\n", s.Name, s.Entries, s.Stored, s.Duplicates, s.Withdrawn, len(s.Skipped))
	}
	fmt.Printf("\n%d zips (%.1f MiB), %d entries read, %d records stored, %d index keys\n",
		len(zips), float64(zipBytes)/(1<<20), entries, st.Records, st.IndexKeys)
	fmt.Printf("time %.2fs (best of %d), %.0f records/s (entries read / time)\n",
		best.Seconds(), max(runs, 1), float64(entries)/best.Seconds())
	fmt.Printf("store %.1f MiB, Go heap reserved %.0f MiB, GOMAXPROCS %d\n",
		float64(st.Size)/(1<<20), float64(peak)/(1<<20), runtime.GOMAXPROCS(0))

	// One query, to show the store answers.
	db, err := vulndb.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	recs, err := db.Query(ctx, "Go", "stdlib")
	if err != nil {
		return err
	}
	fmt.Printf("query Go/stdlib: %d records in %s\n", len(recs), time.Since(start).Round(time.Microsecond))
	return nil
}
