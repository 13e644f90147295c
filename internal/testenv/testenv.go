// Package testenv finds what tests need outside the project: the
// third-party sample logs in ../shared/samples (never copied into the
// project), located from the module root or the CONVERT_SAMPLES variable.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: go.mod not found")
		}
		dir = parent
	}
}

// samplesRoot is the folder of the third-party samples.
func samplesRoot(t testing.TB) string {
	if root := os.Getenv("CONVERT_SAMPLES"); root != "" {
		return root
	}
	return filepath.Join(RepoRoot(t), "..", "shared", "samples")
}

// SamplesSeedDir returns the samples folder of a kind, or "" when it is not
// there: for fuzz seeds, which are welcome but not required.
func SamplesSeedDir(t testing.TB, kind string) string {
	t.Helper()
	dir := filepath.Join(samplesRoot(t), kind)
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// SamplesDir returns the samples folder of a kind ("vpcflow", "cloudtrail",
// "s3access"), or skips the test when the samples are not present.
// CONVERT_REQUIRE_SAMPLES=1 turns the skip into a failure (CI sets it).
func SamplesDir(t testing.TB, kind string) string {
	t.Helper()
	dir := filepath.Join(samplesRoot(t), kind)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CONVERT_REQUIRE_SAMPLES") == "1" {
			t.Fatalf("samples required but missing: %v", err)
		}
		t.Skipf("no samples at %s", dir)
	}
	return dir
}
