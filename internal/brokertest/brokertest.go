// Package brokertest helps tests that need the real broker: it finds it (or
// skips, or fails when MQBENCH_REQUIRE_BROKER=1), gives each test unique
// names, and inspects what is left on the broker.
package brokertest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// URL returns the broker URL for tests ($MQBENCH_URL or the local default).
// When no broker answers the test is skipped, or failed when
// MQBENCH_REQUIRE_BROKER=1 (as in CI) so that a missing broker is never
// mistaken for passing tests.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("MQBENCH_URL")
	if url == "" {
		url = "amqp://guest:guest@localhost:5672/"
	}
	u, err := amqp.ParseURI(url)
	if err != nil {
		t.Fatalf("MQBENCH_URL: %v", err)
	}
	addr := net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		if os.Getenv("MQBENCH_REQUIRE_BROKER") == "1" {
			t.Fatalf("no broker at %s (MQBENCH_REQUIRE_BROKER=1): %v; start one with scripts/broker.sh", addr, err)
		}
		t.Skipf("no broker at %s: %v (set MQBENCH_REQUIRE_BROKER=1 to fail instead)", addr, err)
	}
	c.Close()
	return url
}

// Suffix returns a short random suffix that makes a test's queue and
// exchange names its own (packages' tests run in parallel on one broker).
func Suffix(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return strings.ToLower(name) + "-" + hex.EncodeToString(b)
}

// Conn opens a connection the test closes at its end.
func Conn(t testing.TB, url string) *amqp.Connection {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("dial broker: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// QueueExists reports whether a queue of that name exists.
func QueueExists(t testing.TB, c *amqp.Connection, name string) bool {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	defer ch.Close()
	_, err = ch.QueueDeclarePassive(name, false, false, false, false, nil)
	return err == nil
}

// ExchangeExists reports whether an exchange of that name exists (a
// passive declare checks the name only).
func ExchangeExists(t testing.TB, c *amqp.Connection, name string) bool {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	defer ch.Close()
	return ch.ExchangeDeclarePassive(name, "direct", false, false, false, false, nil) == nil
}

// DeleteQueue deletes a queue if it exists (for clean-up on failure).
func DeleteQueue(c *amqp.Connection, name string) {
	ch, err := c.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	_, _ = ch.QueueDelete(name, false, false, false)
}

// DeleteExchange deletes an exchange if it exists (for clean-up on failure).
func DeleteExchange(c *amqp.Connection, name string) {
	ch, err := c.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	_ = ch.ExchangeDelete(name, false, false)
}

// Ctl runs rabbitmqctl against the broker the tests use: the command in
// $MQBENCH_RABBITMQCTL (split on spaces, e.g. "scripts/rabbitmq4.sh ctl"
// for the 4.x node, relative to the repository root) or else the
// installed rabbitmqctl.
func Ctl(args ...string) ([]byte, error) {
	cmd := []string{"rabbitmqctl"}
	if c := os.Getenv("MQBENCH_RABBITMQCTL"); c != "" {
		cmd = strings.Fields(c)
		if !filepath.IsAbs(cmd[0]) && strings.Contains(cmd[0], "/") {
			cmd[0] = filepath.Join(repoRoot(), cmd[0])
		}
	}
	return exec.Command(cmd[0], append(cmd[1:], args...)...).Output()
}

// repoRoot is the module's root: the nearest directory with a go.mod.
func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}
