package brokertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Node is a throwaway RabbitMQ node of a test's own — own node name, ports
// and data directory — started from the installed rabbitmq-server, for
// tests that change broker-wide state (users, alarms, restarts) without
// touching the shared broker. It is stopped and removed when the test ends,
// whatever happens.
type Node struct {
	Name     string // node name, e.g. mqbench-1a2b3c@localhost
	Port     int    // AMQP port on 127.0.0.1
	MgmtPort int    // management HTTP port on 127.0.0.1 (0 without the plugin)
	TLSPort  int    // amqps port on 127.0.0.1 (0 without WithTLS)
	CA       *CA    // signed the node's certificate; the only CA it trusts for client certificates (nil without WithTLS)
	dir      string
	env      []string
	t        testing.TB
}

// NodeOption changes how a private node is started.
type NodeOption func(*nodeConfig)

type nodeConfig struct{ management, tls, external bool }

// WithManagement enables the management plugin (HTTP API) on a free
// loopback port: a few seconds more to start.
func WithManagement() NodeOption { return func(c *nodeConfig) { c.management = true } }

// StartNode starts a private node, or skips the test when rabbitmq-server
// is not installed (unless MQBENCH_REQUIRE_BROKER=1, which fails instead)
// and in the second broker pass (NeedsPrivateNode).
func StartNode(t testing.TB, opts ...NodeOption) *Node {
	t.Helper()
	NeedsPrivateNode(t)
	if _, err := exec.LookPath("rabbitmq-server"); err != nil {
		if os.Getenv("MQBENCH_REQUIRE_BROKER") == "1" {
			t.Fatal("rabbitmq-server is not installed: the private-node tests need it")
		}
		t.Skip("rabbitmq-server is not installed")
	}
	amqpPort, distPort := freePort(t), freePort(t)
	id := strings.TrimSuffix(Suffix(t), "")
	id = id[strings.LastIndex(id, "-")+1:]
	dir, err := os.MkdirTemp("", "mqbench-node-")
	if err != nil {
		t.Fatal(err)
	}
	// Until the node is started, a failure (making its certificates, say)
	// leaves only the directory behind.
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	n := &Node{Name: "mqbench-" + id + "@localhost", Port: amqpPort, dir: dir, t: t}
	own(dir)
	var cfg nodeConfig
	for _, o := range opts {
		o(&cfg)
	}
	conf := n.writeConfig(cfg)
	n.env = append(os.Environ(),
		"RABBITMQ_NODENAME="+n.Name,
		"RABBITMQ_NODE_PORT="+strconv.Itoa(amqpPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(distPort),
		"RABBITMQ_CONFIG_FILE="+strings.TrimSuffix(conf, ".conf"),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "node.pid"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
	)
	t.Cleanup(n.remove)
	if out, err := n.cmd("rabbitmq-server", "-detached").CombinedOutput(); err != nil {
		t.Fatalf("start node %s: %v\n%s", n.Name, err, out)
	}
	// -detached returns before the VM has even registered: wait for the
	// AMQP listener, which opens once the node has booted.
	deadline := time.Now().Add(90 * time.Second)
	for _, port := range []int{amqpPort, n.MgmtPort, n.TLSPort} {
		if port == 0 {
			continue
		}
		for {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 500*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s did not open port %d within 90s\n%s", n.Name, port, n.logs())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// The listeners open before the boot's last steps: rabbitmqctl's
	// commands need the rabbit app marked running (add_user right after
	// the port opened was refused once under load).
	if out, err := n.Ctl("await_startup", "--timeout", strconv.Itoa(max(1, int(time.Until(deadline).Seconds())))); err != nil {
		t.Fatalf("node %s did not finish booting: %v\n%s\n%s", n.Name, err, out, n.logs())
	}
	return n
}

// writeConfig writes the node's rabbitmq.conf and enabled_plugins files
// and returns the former's path.
func (n *Node) writeConfig(cfg nodeConfig) string {
	conf := filepath.Join(n.dir, "rabbitmq.conf")
	text := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d\nloopback_users = none\n", n.Port)
	var plugins []string
	if cfg.management {
		n.MgmtPort = freePort(n.t)
		// Statistics every 500 ms rather than 5 s: a test run is short.
		text += fmt.Sprintf("management.tcp.port = %d\nmanagement.tcp.ip = 127.0.0.1\ncollect_statistics_interval = 500\n", n.MgmtPort)
		plugins = append(plugins, "rabbitmq_management")
	}
	if cfg.tls {
		text += n.tlsConfig()
	}
	if cfg.external {
		text += externalConfig
		plugins = append(plugins, "rabbitmq_auth_mechanism_ssl")
	}
	_ = os.WriteFile(conf, []byte(text), 0o644)
	_ = os.WriteFile(filepath.Join(n.dir, "enabled_plugins"), []byte("["+strings.Join(plugins, ",")+"].\n"), 0o644)
	return conf
}

// own gives a file of the node's to the rabbitmq user, when there is one
// and we are root: Debian's wrapper runs the node as that user, and the
// node must read its directory, certificates and key.
func own(path string) {
	if u, err := user.Lookup("rabbitmq"); err == nil && os.Geteuid() == 0 {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		_ = os.Chown(path, uid, gid)
	}
}

// MgmtURL is the node's management API base URL for the guest user.
func (n *Node) MgmtURL() string { return fmt.Sprintf("http://guest:guest@127.0.0.1:%d/", n.MgmtPort) }

// URL is the node's AMQP URL for the default guest user.
func (n *Node) URL() string { return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", n.Port) }

// Ctl runs rabbitmqctl against this node only.
func (n *Node) Ctl(args ...string) (string, error) {
	out, err := n.cmd("rabbitmqctl", append([]string{"-n", n.Name}, args...)...).CombinedOutput()
	return string(out), err
}

func (n *Node) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Env = n.env // never os.Setenv: other tests' rabbitmqctl calls must reach the shared node
	return c
}

func (n *Node) logs() string {
	b, _ := exec.Command("sh", "-c", "tail -n 30 "+filepath.Join(n.dir, "log")+"/*.log 2>/dev/null").Output()
	return string(b)
}

// remove stops the node (whatever state it is in, even half-started) and
// deletes its data.
func (n *Node) remove() {
	if _, err := n.Ctl("stop"); err != nil {
		// Not (yet) reachable by rabbitmqctl: end every process of this
		// node — its name is unique to the test — the VM and its helpers.
		_ = exec.Command("pkill", "-KILL", "-f", n.Name).Run()
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.Port), 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(200 * time.Millisecond)
	}
	_ = os.RemoveAll(n.dir)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartCluster starts n private nodes and joins them into one cluster (the
// others join the first); they are stopped and removed when the test ends.
// opts apply to the first node.
func StartCluster(t testing.TB, n int, opts ...NodeOption) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	for i := range nodes {
		if i == 0 {
			nodes[i] = StartNode(t, opts...)
			continue
		}
		nodes[i] = StartNode(t)
	}
	for _, m := range nodes[1:] {
		for _, args := range [][]string{{"stop_app"}, {"join_cluster", nodes[0].Name}, {"start_app"}} {
			if out, err := m.Ctl(args...); err != nil {
				t.Fatalf("%s %v: %v\n%s", m.Name, args, err, out)
			}
		}
	}
	// Every node must see every other running before the test begins.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		out, err := nodes[0].Ctl("cluster_status", "--formatter", "json")
		if err == nil && strings.Count(runningNodes(out), "mqbench-") == n {
			return nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not form: %v\n%s", err, out)
		}
	}
}

// runningNodes is the running_nodes list of rabbitmqctl cluster_status's
// JSON, as text.
func runningNodes(statusJSON string) string {
	i := strings.Index(statusJSON, `"running_nodes"`)
	if i < 0 {
		return ""
	}
	rest := statusJSON[i:]
	if j := strings.Index(rest, "]"); j >= 0 {
		return rest[:j]
	}
	return ""
}
