package vuln

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/osv"
	"github.com/kubeshield/kubeshield/internal/version"
)

// Source gives the records that may affect a package: those with an
// affected entry for name in ecosystem (with or without the release).
// vulndb.DB implements it.
type Source interface {
	Query(ctx context.Context, ecosystem, name string) ([]*osv.Record, error)
}

// Match is one vulnerability in one package: the records that name the same
// flaw, merged.
type Match struct {
	// ID is the primary ID: the one CVE when the merged records name exactly
	// one, else the smallest record ID.
	ID string
	// Aliases are the other IDs of the flaw (record IDs, aliases, upstream).
	Aliases []string
	// Package is the affected package.
	Package inventory.Package
	// Records are the merged records, sorted by ID.
	Records []*osv.Record
	// Fixed are the versions that fix the flaw for this package's version
	// (the nearest fixed event above it in each affecting range), sorted.
	Fixed []string
}

// Problem is a package or record that could not be evaluated (an installed
// version its scheme does not parse, say). Matching goes on without it.
type Problem struct {
	Package string
	Record  string
	Message string
}

// Result is what Match returns.
type Result struct {
	Matches  []Match
	Problems []Problem
}

// MatchAll looks up every package of inv in src and returns the
// vulnerabilities that affect it, merged by alias, sorted by package then
// ID. It returns an error only when src fails.
func MatchAll(ctx context.Context, src Source, inv *inventory.Result) (*Result, error) {
	res := &Result{}
	for _, p := range inv.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q, ok := queryOf(p, inv.Distro)
		if !ok {
			continue
		}
		var recs []*osv.Record
		seen := map[string]bool{}
		for _, eco := range append([]string{q.ecosystem}, q.also...) {
			found, err := src.Query(ctx, eco, q.name)
			if err != nil {
				return nil, fmt.Errorf("query %s %s: %w", eco, q.name, err)
			}
			for _, r := range found {
				if !seen[r.ID] {
					seen[r.ID] = true
					recs = append(recs, r)
				}
			}
		}
		var hits []hit
		for _, r := range recs {
			if r.IsWithdrawn() {
				continue
			}
			affected, fixed, err := affects(r, q)
			if err != nil {
				res.Problems = append(res.Problems, Problem{Package: p.Name + "@" + p.Version, Record: r.ID, Message: err.Error()})
			}
			if affected {
				hits = append(hits, hit{rec: r, fixed: fixed})
			}
		}
		res.Matches = append(res.Matches, merge(p, hits)...)
	}
	return res, nil
}

type hit struct {
	rec   *osv.Record
	fixed []string
}

// affects reports whether r affects the queried package version, and the
// fixed versions of the ranges that affect it. An event version the scheme
// cannot parse is skipped and reported; an unparsable installed version can
// still match a record's explicit versions list.
func affects(r *osv.Record, q query) (bool, []string, error) {
	installed, perr := q.scheme.Parse(q.version)
	var (
		hit   bool
		fixed []string
		errs  []error
	)
	for _, a := range r.Affected {
		if !q.matches(a.Package) {
			continue
		}
		if slices.Contains(a.Versions, q.version) {
			hit = true
		}
		if perr != nil {
			continue
		}
		for _, rg := range a.Ranges {
			scheme := q.scheme
			switch rg.Type {
			case osv.Semver:
				scheme = version.SemVer
			case osv.Ecosystem:
			default:
				continue // GIT ranges need commits, not versions
			}
			v := installed
			if scheme != q.scheme {
				var err error
				if v, err = scheme.Parse(q.version); err != nil {
					errs = append(errs, fmt.Errorf("installed version %q: %w", q.version, err))
					continue
				}
			}
			in, fix, err := inRange(v, rg.Events, scheme)
			if err != nil {
				errs = append(errs, err)
			}
			if in {
				hit = true
				if fix != "" && !slices.Contains(fixed, fix) {
					fixed = append(fixed, fix)
				}
			}
		}
	}
	if perr != nil && !hit {
		errs = append(errs, fmt.Errorf("installed version %q: %w", q.version, perr))
	}
	sort.Strings(fixed)
	if len(errs) > 0 {
		return hit, fixed, errs[0]
	}
	return hit, fixed, nil
}

// event is a range event with its parsed version (nil for introduced "0").
type event struct {
	kind osv.EventKind
	raw  string
	v    version.Version
}

// inRange evaluates one range with the OSV schema's algorithm: sort the
// events by version; v is affected when the last event at or below it
// introduces (a last_affected event still covers its own version). It also
// returns the nearest fixed version above v when v is affected.
func inRange(v version.Version, events []osv.Event, scheme version.Scheme) (bool, string, error) {
	var (
		evs  []event
		errs []error
	)
	for _, e := range events {
		if e.Kind == osv.Limit {
			continue
		}
		if e.Kind == osv.Introduced && e.Version == "0" {
			evs = append(evs, event{kind: e.Kind, raw: e.Version})
			continue
		}
		pv, err := scheme.Parse(e.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s version %q: %w", e.Kind, e.Version, err))
			continue
		}
		evs = append(evs, event{kind: e.Kind, raw: e.Version, v: pv})
	}
	sort.SliceStable(evs, func(i, j int) bool { return less(evs[i], evs[j]) })
	affected := false
	for _, e := range evs {
		switch e.kind {
		case osv.Introduced:
			if e.v == nil || v.Compare(e.v) >= 0 {
				affected = true
			}
		case osv.Fixed:
			if v.Compare(e.v) >= 0 {
				affected = false
			}
		case osv.LastAffected:
			if v.Compare(e.v) > 0 {
				affected = false
			}
		}
	}
	fix := ""
	if affected {
		for _, e := range evs {
			if e.kind == osv.Fixed && v.Compare(e.v) < 0 {
				fix = e.raw
				break
			}
		}
	}
	var err error
	if len(errs) > 0 {
		err = errs[0]
	}
	return affected, fix, err
}

// less orders events by version; introduced "0" comes first, and at equal
// versions an introduced event comes before the events that close a span.
func less(a, b event) bool {
	switch {
	case a.v == nil && b.v == nil:
		return false
	case a.v == nil:
		return true
	case b.v == nil:
		return false
	}
	if c := a.v.Compare(b.v); c != 0 {
		return c < 0
	}
	return a.kind == osv.Introduced && b.kind != osv.Introduced
}

// matches reports whether an affected package names the queried package in
// one of the ecosystem's spellings.
func (q query) matches(p osv.Package) bool {
	if p.Matches(q.ecosystem, q.name) {
		return true
	}
	for _, eco := range q.also {
		if p.Matches(eco, q.name) {
			return true
		}
	}
	return false
}
