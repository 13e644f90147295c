package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is a bad command line (exit status 2). flags marks errors in
// the flags themselves, after which a pointer to -h helps.
type usageError struct {
	msg   string
	flags bool
	err   error // the cause, if any: a transient one changes the exit status
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// parseFlags parses args into fs. -h or --help prints help (the text from
// header, then the flags) on stdout and returns flag.ErrHelp; a bad flag
// returns a *usageError that names it, with the nearest flag when one is
// close. The flag package itself prints nothing.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, header func(io.Writer)) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		printHelp(fs, stdout, header)
		return flag.ErrHelp
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + name
		if s := nearestFlags(fs, name); s != "" {
			msg += " (did you mean " + s + "?)"
		}
	} else {
		// The flag package names flags with one dash; the README and the
		// help use two.
		for _, p := range []string{"for flag -", "for -", "argument: -"} {
			msg = strings.Replace(msg, p, p+"-", 1)
		}
	}
	return &usageError{msg: msg, flags: true}
}

func printHelp(fs *flag.FlagSet, w io.Writer, header func(io.Writer)) {
	header(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags (each can also be set by an environment variable, --some-name by CONVERT_SOME_NAME; flags win):")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// isHelp tells whether a command's first argument asks for help (commands
// whose first argument is the log kind look at it before parsing flags).
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h", "help":
		return true
	}
	return false
}

// reportUsage prints a usage error as one line on stderr, and for errors in
// the flags a pointer to the command's help.
func reportUsage(stderr io.Writer, command string, err error) {
	fmt.Fprintf(stderr, "convert %s: %v\n", command, err)
	var ue *usageError
	if errors.As(err, &ue) && ue.flags {
		fmt.Fprintf(stderr, "Run \"convert %s -h\" for help.\n", command)
	}
}

// usageExit handles the error of parseFlags or a later usage error of a
// command that prints no summary: 0 after help, else the error reported and
// exitUsage.
func usageExit(stderr io.Writer, command string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	reportUsage(stderr, command, err)
	return exitUsage
}

// nearestFlags names the defined flags a mistyped name most likely meant,
// as "--a" or "--a or --b": flags it begins (--work, --max), else the flags
// at the fewest edits, at most two (--ot, --compresion; one for names of up
// to three letters), else a flag it begins with (--output, --input); "" when
// none is close.
func nearestFlags(fs *flag.FlagSet, name string) string {
	name = strings.ToLower(name)
	var starts, within, begins []string
	maxDist := 2
	if len(name) <= 3 {
		maxDist = 1
	}
	bestDist := maxDist
	fs.VisitAll(func(f *flag.Flag) {
		switch d := editDistance(name, f.Name); {
		case len(name) >= 2 && strings.HasPrefix(f.Name, name):
			starts = append(starts, f.Name)
		case d <= maxDist && d < bestDist:
			within, bestDist = []string{f.Name}, d
		case d <= maxDist && d == bestDist:
			within = append(within, f.Name)
		case len(f.Name) >= 2 && strings.HasPrefix(name, f.Name):
			begins = append(begins, f.Name)
		}
	})
	for _, names := range [][]string{starts, within, begins} {
		if len(names) > 0 && len(names) <= 3 {
			return "--" + strings.Join(names, " or --")
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of two ASCII flag names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
