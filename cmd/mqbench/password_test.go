package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/brokertest"
)

// TestPasswordNeverWritten runs mqbench on a private node with a user whose
// password is recognisable, then searches everything mqbench wrote — live
// lines, tables, the result file, re-rendered reports, error messages — for
// it.
func TestPasswordNeverWritten(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	const secret = "S3cr3t-Pa55-xyzzy"
	n := brokertest.StartNode(t)
	for _, args := range [][]string{
		{"add_user", "mqbench-pw", secret},
		{"set_permissions", "-p", "/", "mqbench-pw", ".*", ".*", ".*"},
	} {
		if out, err := n.Ctl(args...); err != nil {
			t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
		}
	}
	url := fmt.Sprintf("amqp://mqbench-pw:%s@127.0.0.1:%d/", secret, n.Port)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	var written strings.Builder
	record := func(code int, stdout, stderr string) int {
		written.WriteString(stdout)
		written.WriteString(stderr)
		return code
	}
	if code := record(run("run", "--url", url, "--pmessages", "300", "--confirm", "50", "--out", out)); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, written.String())
	}
	sweepOut := filepath.Join(dir, "s.json")
	if code := record(run("run", "--url", url, "--sweep", "prefetch=10,100", "--pmessages", "100", "--quiet", "--out", sweepOut)); code != exitOK {
		t.Fatalf("sweep: exit %d", code)
	}
	// A sweep over the URL itself: its parameters are printed (progress,
	// grid), saved (params) and re-rendered by report and compare.
	urlSweep := filepath.Join(dir, "u.json")
	url2 := strings.Replace(url, "127.0.0.1", "localhost", 1)
	if code := record(run("run", "--sweep", "url="+url+","+url2, "--pmessages", "100", "--out", urlSweep)); code != exitOK {
		t.Fatalf("url sweep: exit %d\n%s", code, written.String())
	}
	for _, f := range []string{"table", "json", "csv", "markdown"} {
		record(run("report", "--format", f, out, sweepOut, urlSweep))
	}
	record(run("compare", out, out))
	record(run("compare", urlSweep, urlSweep, "--format", "markdown", "--max-regression", "rates.published_per_s=50"))
	record(run("compare", urlSweep, urlSweep))
	// A variant that cannot be built names its parameters in the error.
	record(run("run", "--sweep", "url="+url, "--sweep", "prefetch=lots", "--quiet"))
	// Failures print URLs and errors too.
	bad := strings.Replace(url, secret, secret+"-wrong", 1)
	if code := record(run("run", "--url", bad, "--duration", "1s")); code != exitFailed {
		t.Errorf("bad password: exit %d", code)
	}
	record(run("run", "--url", strings.Replace(url, "127.0.0.1", "127.0.0.1:1", 1), "--duration", "1s"))
	for _, f := range []string{out, sweepOut, urlSweep} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		written.Write(b)
	}
	if strings.Contains(written.String(), "Pa55") {
		i := strings.Index(written.String(), "Pa55")
		t.Fatalf("the password appears in mqbench's output: …%s…", written.String()[max(0, i-80):i+20])
	}
	if !strings.Contains(written.String(), "mqbench-pw:xxxxx@") {
		t.Error("the masked URL does not appear at all: was anything written?")
	}
}
