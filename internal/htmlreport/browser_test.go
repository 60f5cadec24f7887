//go:build unix

package htmlreport

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/htmlreport/chart"
)

// The browser test opens each golden report in headless Chromium (Debian's
// package) and checks what a person would see: nothing on the console,
// and every chart drawn. MQBENCH_REQUIRE_BROWSER=1 (set by scripts/test.sh)
// turns a missing Chromium into a failure instead of a skip.

const requireBrowser = "MQBENCH_REQUIRE_BROWSER"

// chromiumBin finds Chromium, or skips (fails when it is required).
func chromiumBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	msg := "chromium not found (neither in PATH nor /usr/bin/chromium); install it with: apt-get install -y chromium"
	if os.Getenv(requireBrowser) == "1" {
		t.Fatalf("%s (%s=1 requires the browser test)", msg, requireBrowser)
	}
	t.Skip(msg)
	return ""
}

// browse loads page in headless Chromium and returns the DOM after load
// and Chromium's log; it saves a screenshot of the top height pixels to
// shot. Each run gets a fresh profile; the background-networking flags
// keep Chromium from calling home (which fails, offline, with noise).
func browse(t *testing.T, bin, page, shot string, height int) (dom, log string) {
	t.Helper()
	profile, err := os.MkdirTemp("", "mqbench-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: Chromium's helpers may still be writing into the
	// profile as it exits, and a failed removal must not fail the test.
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+profile,
		"--enable-logging=stderr", "--v=0", "--dump-dom", "--screenshot="+shot, "--window-size=1400,"+strconv.Itoa(height),
		"file://"+page)
	// Chromium forks helpers: give them a process group and kill the whole
	// group on a timeout, so no renderer outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("chromium did not finish %s within 45s\n%s", page, errOut.String())
		}
		t.Fatalf("chromium on %s: %v\n%s", page, err, errOut.String())
	}
	return out.String(), errOut.String()
}

// consoleLine matches Chromium's log line for a page's console output.
// Chromium 156 logs every console message and every uncaught exception as
// `[…:INFO:CONSOLE:12] "Uncaught Error: boom", source: file:///… (12)` —
// console.error and console.log alike, at INFO — so the level cannot be
// told apart: the report logs nothing, and any such line is a failure.
// Older versions write CONSOLE(12); both forms match.
var consoleLine = regexp.MustCompile(`:CONSOLE(:\d+|\(\d+\))\]`)

func consoleLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if consoleLine.MatchString(l) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

var bodyTag = regexp.MustCompile(`<body[^>]*>`)

// bodyCount reads one of the self-check's counts from the dumped body tag
// (-1 when absent: the script did not run).
func bodyCount(dom, attr string) int {
	m := regexp.MustCompile(attr + `="(\d+)"`).FindStringSubmatch(bodyTag.FindString(dom))
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// problems lists what is wrong with a page as the browser saw it: console
// output, and charts that the Go side wrote but the browser did not find
// or did not draw.
func problems(dom, log string, emitted int) []string {
	var out []string
	for _, l := range consoleLines(log) {
		out = append(out, "console: "+l)
	}
	expected, drawn := bodyCount(dom, "data-charts-expected"), bodyCount(dom, "data-charts-drawn")
	if expected != emitted || drawn != emitted {
		out = append(out, "charts: "+strconv.Itoa(emitted)+" written, "+strconv.Itoa(expected)+" found, "+strconv.Itoa(drawn)+" drawn")
	}
	return out
}

// screenshotHeights show each golden report down to the end of its charts.
var screenshotHeights = map[string]int{"run": 1380, "sweep": 1320, "compare": 1500, "capacity": 1000, "capacity-sweep": 1000}

func TestHTMLBrowser(t *testing.T) {
	bin := chromiumBin(t)
	start := time.Now()
	dir := t.TempDir()
	latest, _ := filepath.Abs(filepath.Join("testdata", "screenshots", "latest"))
	if err := os.MkdirAll(latest, 0o755); err != nil {
		t.Fatal(err)
	}
	sem := make(chan struct{}, 2) // two browsers at a time: the machine has two cores
	// Parallel subtests end before the parent's cleanup runs.
	t.Cleanup(func() { t.Logf("browser checks took %v", time.Since(start).Round(time.Millisecond)) })
	for _, g := range goldenInputs(t) {
		page := render(t, g.in)
		file := filepath.Join(dir, g.name+".html")
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		emitted := strings.Count(page, `<svg class="chart"`)
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			shot := filepath.Join(latest, g.name+".png")
			dom, log := browse(t, bin, file, shot, screenshotHeights[g.name])
			for _, p := range problems(dom, log, emitted) {
				t.Error(p)
			}
			t.Logf("%d charts drawn; screenshot %s", emitted, shot)
			if *update {
				keepScreenshot(t, shot, g.name)
			}
		})
	}
}

// keepScreenshot copies a screenshot into testdata/screenshots, where it
// is committed for reviewers, if it is small enough to commit.
func keepScreenshot(t *testing.T, shot, name string) {
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 200<<10 {
		t.Logf("screenshot %s is %d KB: not kept (over 200 KB)", shot, len(data)>>10)
		return
	}
	dst := filepath.Join("testdata", "screenshots", name+".png")
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("kept %s (%d KB)", dst, len(data)>>10)
}

// TestBrowserCatchesBrokenPages proves the checks can fail: an uncaught
// exception and a console.error are found on the console, and charts
// that draw nothing (only axes, or hidden) are counted as not drawn.
func TestHTMLBrowserCatchesBrokenPages(t *testing.T) {
	bin := chromiumBin(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.html")
	os.WriteFile(broken, []byte(`<!DOCTYPE html><html><body><p>broken</p>`+
		`<script>console.error("quiet failure")</script><script>throw new Error("boom")</script></body></html>`), 0o644)
	dom, log := browse(t, bin, broken, filepath.Join(dir, "broken.png"), 300)
	got := strings.Join(problems(dom, log, 0), "\n")
	for _, want := range []string{"Uncaught Error: boom", "quiet failure"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check missed %q; it found:\n%s\nchromium's log:\n%s", want, got, log)
		}
	}

	// Two charts the Go side wrote that draw no mark: one with axes only,
	// one with a bar but hidden by CSS.
	var m chart.Markup
	xa, ya := chart.Axis{Lo: 0, Hi: 1, Ticks: chart.NinesTicks(1)}, chart.Axis{Lo: 1, Hi: 10, Log: true}
	chart.Begin(&m, chart.Spec{Kind: "empty", Title: "axes only"}, xa, ya).End()
	m.Raw(`<div style="display:none">`)
	f := chart.Begin(&m, chart.Spec{Kind: "hidden", Title: "hidden"}, xa, ya)
	f.Dot(100, 100, 5, blue, "a point nobody sees")
	f.End()
	m.Raw("</div>")
	undrawn := filepath.Join(dir, "undrawn.html")
	os.WriteFile(undrawn, []byte(`<!DOCTYPE html><html><body data-charts-emitted="2">`+m.String()+
		"<script>"+selfCheck+"</script></body></html>"), 0o644)
	dom, log = browse(t, bin, undrawn, filepath.Join(dir, "undrawn.png"), 600)
	got = strings.Join(problems(dom, log, m.Charts()), "\n")
	if !strings.Contains(got, "charts: 2 written, 2 found, 0 drawn") {
		t.Errorf("the check did not catch two undrawn charts; it found %q", got)
	}
}
