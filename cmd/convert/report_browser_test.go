package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReportInBrowser opens the HTML report in headless Chromium, from
// file:// with every network request failing, and checks that the page
// logs no console message, that the DOM Chromium built holds the SVG charts
// and the JSON report's numbers, and that a screenshot shows the bars. It
// runs when CONVERT_BROWSER=1 (.ci/run sets it after installing chromium);
// with CONVERT_BROWSER_ARTIFACTS=DIR the screenshot is kept there.
func TestReportInBrowser(t *testing.T) {
	if os.Getenv("CONVERT_BROWSER") != "1" {
		t.Skip("set CONVERT_BROWSER=1 to open the report in headless Chromium")
	}
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	require.NotEmpty(t, browser, "CONVERT_BROWSER=1 but no chromium on PATH")

	out := classifiedTestdata(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	code, _, stderr := runCLI(t, "report", "flowlogs", "--in", out, "--out", page)
	require.Equal(t, exitOK, code, stderr)
	code, js, stderr := runCLI(t, "report", "flowlogs", "--in", out, "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var rep reportJSON
	require.NoError(t, json.Unmarshal([]byte(js), &rep))

	chromium := func(args ...string) (stdout, stderr string) {
		t.Helper()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir=" + filepath.Join(dir, "profile"),
			// No network: every proxied request and every name lookup fails.
			"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
			"--enable-logging=stderr", "--v=0", "--window-size=1100,1600", "--hide-scrollbars"}, args...)
		args = append(args, "file://"+page)
		cmd := exec.Command(browser, args...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		done := make(chan error, 1)
		require.NoError(t, cmd.Start())
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			require.NoError(t, err, e.String())
		case <-time.After(90 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("chromium did not finish in 90 s: %s", e.String())
		}
		return o.String(), e.String()
	}

	dom, log := chromium("--dump-dom")
	// Chromium logs console messages (script errors, CSP violations,
	// failed loads) as CONSOLE lines.
	require.NotRegexp(t, `(?i)CONSOLE|Refused to|net::ERR_`, log)
	require.Contains(t, dom, "convert report: flowlogs")
	charts := regexp.MustCompile(`<svg class="chart (bars|stacked)"`).FindAllString(dom, -1)
	nonEmpty := 0
	for _, tb := range rep.Tables {
		if len(tb.Rows) > 0 {
			nonEmpty++
		}
	}
	require.Len(t, charts, nonEmpty)
	require.Greater(t, strings.Count(dom, `<rect class="bar"`), 5)
	require.Greater(t, strings.Count(dom, `<rect class="seg"`), 0)
	requireHTMLTablesEqual(t, dom, rep)

	shot := filepath.Join(dir, "report.png")
	chromium("--screenshot=" + shot)
	f, err := os.Open(shot)
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	require.Greater(t, barPixels(img), 2000, "the screenshot shows no bars")
	if keep := os.Getenv("CONVERT_BROWSER_ARTIFACTS"); keep != "" {
		require.NoError(t, os.MkdirAll(keep, 0o755))
		b, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(keep, "report.png"), b, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(keep, "report.html"), mustRead(t, page), 0o644))
		t.Logf("screenshot: %s", filepath.Join(keep, "report.png"))
	}
}

// barPixels counts the pixels of the bar charts' colour (#3b78c2).
func barPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, 0x3b) && near(g>>8, 0x78) && near(bl>>8, 0xc2) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b uint32) bool { return a+3 >= b && a <= b+3 }

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}
