package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"convert/internal/writer"
)

// envPrefix is the prefix of environment variables that set flags: every
// flag --some-name can also come from CONVERT_SOME_NAME (ECS task definitions
// and Step Functions overrides pass environment variables). Flags win.
const envPrefix = "CONVERT_"

// envName returns the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its
// environment variable, if that is set.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// applyEnvTo sets one flag from its environment variable unless it was given.
func applyEnvTo(fs *flag.FlagSet, name string) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if v, ok := os.LookupEnv(envName(name)); ok && !given && fs.Lookup(name) != nil {
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("%s=%q: %w", envName(name), v, err)
		}
	}
	return nil
}

// byteSize is a flag value like 256MiB, 1GiB, 128MB or 1048576.
type byteSize int64

func (b *byteSize) String() string { return formatBytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	v, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(v)
	return nil
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("bad size %q", s)
			}
			return int64(f * float64(u.mult)), nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 256MiB)", s)
	}
	return v, nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}

// dayFlag is a YYYY-MM-DD flag value.
type dayFlag struct{ t time.Time }

func (d *dayFlag) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format("2006-01-02")
}

func (d *dayFlag) Set(s string) error {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return fmt.Errorf("want YYYY-MM-DD, got %q", s)
	}
	d.t = t
	return nil
}

// profileFlag is the --parquet-profile value: athena or compat.
type profileFlag struct{ p writer.Profile }

func (f *profileFlag) String() string { return f.p.String() }

func (f *profileFlag) Set(s string) error {
	p, err := writer.ParseProfile(s)
	if err != nil {
		return err
	}
	f.p = p
	return nil
}

// registerParquetProfile adds --parquet-profile to fs.
func registerParquetProfile(fs *flag.FlagSet, f *profileFlag) {
	fs.Var(f, "parquet-profile", "Parquet encodings for the readers: athena (the default: dictionary, plain, delta for integers) or compat "+
		"(dictionary and plain only, for Spark before 3.3: Glue 3.0 and older, older EMR; README: Parquet details)")
}
