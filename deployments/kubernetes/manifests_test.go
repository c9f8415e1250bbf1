package kubernetes_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/contrib/envconfig"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/linkwright/linkwright/internal/admin"
	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/codec"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/ticket/jira"
)

// The kustomizations a user applies (the base alone is checked too).
const (
	baseDir        = "base"
	exampleDir     = "overlays/example"
	exampleMTLSDir = "overlays/example-mtls"
)

const (
	workerName = "linkwright-worker"
	codecName  = "linkwright-codec-server"
	// The codec server's health path (internal/codec/server.go serves it;
	// the codec package has no constant for it).
	codecHealthzPath = "/healthz"
	nonRootUID       = int64(65532)
	// The worker's config file and the env pointing at it
	// (internal/config.Load).
	envConfig       = "LINKWRIGHT_CONFIG"
	envStateDir     = "LINKWRIGHT_STATE_DIR"
	envDeployment   = "LINKWRIGHT_DEPLOYMENT_NAME"
	configMapName   = "linkwright-config"
	configKey       = "linkwright.json"
	exampleNS       = "linkwright"
	exampleImage    = "registry.example.com/platform/linkwright:v0.1.0"
	temporalSecret  = "linkwright-temporal"
	mtlsSecret      = "linkwright-temporal-mtls"
	codecKeysSecret = "linkwright-codec-keys"
	codecAuthSecret = "linkwright-codec-auth"
)

// apiVersions are the kinds the manifests may hold, each at the version
// it is decoded as; any other kind fails the test.
var apiVersions = map[string]string{
	"Deployment":          "apps/v1",
	"Service":             "v1",
	"ServiceAccount":      "v1",
	"ConfigMap":           "v1",
	"PodDisruptionBudget": "policy/v1",
}

// manifests is one build's objects, decoded strictly by kind.
type manifests struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	serviceAccounts map[string]*corev1.ServiceAccount
	configMaps      map[string]*corev1.ConfigMap
	pdbs            map[string]*policyv1.PodDisruptionBudget
	all             []metav1.Object
}

func build(t *testing.T, dir string) *manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	m := &manifests{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		serviceAccounts: map[string]*corev1.ServiceAccount{}, configMaps: map[string]*corev1.ConfigMap{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{},
	}
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		require.NoError(t, err)
		kind, name := r.GetKind(), r.GetName()
		want, ok := apiVersions[kind]
		require.True(t, ok, "%s: unexpected kind %s (%s): add it to the test", dir, kind, name)
		require.Equal(t, want, r.GetApiVersion(), "%s: %s %s", dir, kind, name)
		var obj metav1.Object
		switch kind {
		case "Deployment":
			o := &appsv1.Deployment{}
			m.deployments[name], obj = o, o
		case "Service":
			o := &corev1.Service{}
			m.services[name], obj = o, o
		case "ServiceAccount":
			o := &corev1.ServiceAccount{}
			m.serviceAccounts[name], obj = o, o
		case "ConfigMap":
			o := &corev1.ConfigMap{}
			m.configMaps[name], obj = o, o
		case "PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			m.pdbs[name], obj = o, o
		}
		require.NoError(t, yaml.UnmarshalStrict(y, obj), "%s: %s %s:\n%s", dir, kind, name, y)
		m.all = append(m.all, obj)
	}
	return m
}

func container(t *testing.T, d *appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "no container", "%s has no container %s", d.Name, name)
	return corev1.Container{}
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func volume(t *testing.T, d *appsv1.Deployment, name string) corev1.Volume {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	require.Failf(t, "no volume", "%s has no volume %s", d.Name, name)
	return corev1.Volume{}
}

// fileOf is the path in the container of a key of the secret or config
// map mounted from volume v: what an env variable pointing at it must say.
func fileOf(t *testing.T, d *appsv1.Deployment, c corev1.Container, volumeName, key string) string {
	t.Helper()
	v := volume(t, d, volumeName)
	var items []corev1.KeyToPath
	switch {
	case v.Secret != nil:
		items = v.Secret.Items
	case v.ConfigMap != nil:
		items = v.ConfigMap.Items
	default:
		require.Failf(t, "volume", "%s: volume %s is neither a secret nor a config map", d.Name, volumeName)
	}
	p := key
	for _, it := range items {
		if it.Key == key {
			p = it.Path
		}
	}
	for _, vm := range c.VolumeMounts {
		if vm.Name == volumeName {
			assert.True(t, vm.ReadOnly, "%s: %s is mounted read-only", d.Name, volumeName)
			return vm.MountPath + "/" + p
		}
	}
	require.Failf(t, "not mounted", "%s: volume %s is not mounted in %s", d.Name, volumeName, c.Name)
	return ""
}

// emptyDirAt says which emptyDir volume is mounted at path.
func emptyDirAt(t *testing.T, d *appsv1.Deployment, c corev1.Container, path string) {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == path {
			v := volume(t, d, vm.Name)
			assert.NotNil(t, v.EmptyDir, "%s: %s is an emptyDir", d.Name, path)
			assert.False(t, vm.ReadOnly, "%s: %s is writable", d.Name, path)
			return
		}
	}
	assert.Failf(t, "no mount", "%s: nothing is mounted at %s", d.Name, path)
}

func assertProbe(t *testing.T, what string, p *corev1.Probe, path, port string) {
	t.Helper()
	require.NotNil(t, p, what)
	require.NotNil(t, p.HTTPGet, "%s is an HTTP GET", what)
	assert.Equal(t, path, p.HTTPGet.Path, what)
	assert.Equal(t, intstr.FromString(port), p.HTTPGet.Port, "%s uses the named port", what)
}

func assertPort(t *testing.T, c corev1.Container, name string, number int) {
	t.Helper()
	require.Len(t, c.Ports, 1, "%s: one port", c.Name)
	assert.Equal(t, name, c.Ports[0].Name)
	assert.Equal(t, int32(number), c.Ports[0].ContainerPort, "%s: port %s", c.Name, name)
	assert.Equal(t, corev1.ProtocolTCP, c.Ports[0].Protocol)
}

func assertSecure(t *testing.T, d *appsv1.Deployment, c corev1.Container) {
	t.Helper()
	ps := d.Spec.Template.Spec.SecurityContext
	require.NotNil(t, ps, "%s: pod securityContext", d.Name)
	assert.Equal(t, ptr(true), ps.RunAsNonRoot, d.Name)
	assert.Equal(t, ptr(nonRootUID), ps.RunAsUser, d.Name)
	require.NotNil(t, ps.SeccompProfile, d.Name)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, ps.SeccompProfile.Type, d.Name)

	sc := c.SecurityContext
	require.NotNil(t, sc, "%s: container securityContext", d.Name)
	assert.Equal(t, ptr(true), sc.RunAsNonRoot, d.Name)
	assert.Equal(t, ptr(nonRootUID), sc.RunAsUser, d.Name)
	assert.Equal(t, ptr(true), sc.ReadOnlyRootFilesystem, d.Name)
	assert.Equal(t, ptr(false), sc.AllowPrivilegeEscalation, d.Name)
	require.NotNil(t, sc.Capabilities, d.Name)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, d.Name)
	assert.Empty(t, sc.Capabilities.Add, d.Name)
	assert.Nil(t, sc.Privileged, d.Name)
	require.NotNil(t, sc.SeccompProfile, d.Name)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type, d.Name)

	spec := d.Spec.Template.Spec
	assert.Equal(t, ptr(false), spec.AutomountServiceAccountToken, "%s: no Kubernetes API token", d.Name)
	assert.False(t, spec.HostNetwork || spec.HostPID || spec.HostIPC, d.Name)
	emptyDirAt(t, d, c, "/tmp")
}

// assertSelects checks that a Deployment's selector picks its own pods,
// and that a PDB (and a Service, when given) select exactly those.
func assertSelects(t *testing.T, m *manifests, name string) {
	t.Helper()
	d := m.deployments[name]
	pods := labels.Set(d.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(pods), "%s: its selector matches its pods", name)

	pdb := m.pdbs[name]
	require.NotNil(t, pdb, "%s has a PodDisruptionBudget of the same name", name)
	assert.Equal(t, d.Spec.Selector, pdb.Spec.Selector, "%s: the PDB selects what the Deployment does", name)
	psel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, psel.Matches(pods), "%s: the PDB selects its pods", name)
	assert.Equal(t, ptr(intstr.FromInt32(1)), pdb.Spec.MinAvailable, "%s: PDB minAvailable", name)

	aff := d.Spec.Template.Spec.Affinity
	require.NotNil(t, aff, name)
	require.NotNil(t, aff.PodAntiAffinity, name)
	pref := aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	require.Len(t, pref, 1, "%s: preferred anti-affinity", name)
	assert.Empty(t, aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, name)
	assert.Equal(t, "kubernetes.io/hostname", pref[0].PodAffinityTerm.TopologyKey, name)
	asel, err := metav1.LabelSelectorAsSelector(pref[0].PodAffinityTerm.LabelSelector)
	require.NoError(t, err)
	assert.True(t, asel.Matches(pods), "%s: anti-affinity is against its own pods", name)

	// The other Deployment's pods are not selected.
	for other, od := range m.deployments {
		if other != name {
			assert.False(t, psel.Matches(labels.Set(od.Spec.Template.Labels)), "%s's PDB does not select %s", name, other)
		}
	}

	sa := m.serviceAccounts[d.Spec.Template.Spec.ServiceAccountName]
	require.NotNil(t, sa, "%s: its ServiceAccount %q is in the build", name, d.Spec.Template.Spec.ServiceAccountName)
	assert.Equal(t, ptr(false), sa.AutomountServiceAccountToken, "ServiceAccount %s", sa.Name)
}

func checkWorker(t *testing.T, m *manifests) {
	d := m.deployments[workerName]
	require.NotNil(t, d, "the worker Deployment")
	assert.Equal(t, ptr(int32(2)), d.Spec.Replicas)
	spec := d.Spec.Template.Spec
	require.NotNil(t, spec.TerminationGracePeriodSeconds)
	grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	assert.Greater(t, grace, app.WorkerStopTimeout, "the pod's grace period outlasts the worker's stop timeout")
	assert.Equal(t, 30*time.Second, grace)

	c := container(t, d, "worker")
	assert.Empty(t, c.Command, "the worker is the image's entrypoint")
	assertPort(t, c, "admin", admin.Port)
	assertProbe(t, "worker liveness", c.LivenessProbe, admin.HealthzPath, "admin")
	assertProbe(t, "worker readiness", c.ReadinessProbe, admin.ReadyzPath, "admin")
	assertSecure(t, d, c)

	ann := d.Spec.Template.Annotations
	assert.Equal(t, "true", ann["prometheus.io/scrape"])
	assert.Equal(t, strconv.Itoa(admin.Port), ann["prometheus.io/port"])
	assert.Equal(t, admin.MetricsPath, ann["prometheus.io/path"])

	res := c.Resources
	assert.Equal(t, "100m", ptr(res.Requests[corev1.ResourceCPU]).String())
	assert.Equal(t, "128Mi", ptr(res.Requests[corev1.ResourceMemory]).String())
	assert.Equal(t, "1", ptr(res.Limits[corev1.ResourceCPU]).String())
	assert.Equal(t, "512Mi", ptr(res.Limits[corev1.ResourceMemory]).String())

	env := envOf(c)
	assert.Equal(t, fmt.Sprintf(":%d", admin.Port), env[admin.EnvListen], admin.EnvListen)
	assert.Equal(t, fileOf(t, d, c, "codec-keys", "keys"), env[codec.EnvKeysFile], codec.EnvKeysFile)
	assert.Equal(t, fileOf(t, d, c, "config", configKey), env[envConfig], envConfig)
	assert.Equal(t, "linkwright", env[envDeployment], envDeployment)
	require.NotEmpty(t, env[envStateDir], envStateDir)
	emptyDirAt(t, d, c, env[envStateDir])
	cm := volume(t, d, "config").ConfigMap
	require.NotNil(t, cm)
	assert.True(t, cm.Name == configMapName || strings.HasPrefix(cm.Name, configMapName+"-"), "config map %s", cm.Name)
	for _, e := range c.Env {
		assert.Nil(t, e.ValueFrom, "%s: secrets come from files or envFrom, not single keys", e.Name)
	}

	var from []string
	for _, ef := range c.EnvFrom {
		require.NotNil(t, ef.SecretRef, "envFrom is secrets only")
		from = append(from, ef.SecretRef.Name)
		if ef.SecretRef.Name == temporalSecret {
			assert.Nil(t, ef.SecretRef.Optional, "%s is required", temporalSecret)
		}
	}
	assert.Contains(t, from, temporalSecret)
}

func checkCodecServer(t *testing.T, m *manifests) {
	d := m.deployments[codecName]
	require.NotNil(t, d, "the codec server Deployment")
	assert.Equal(t, ptr(int32(2)), d.Spec.Replicas)
	c := container(t, d, "codec-server")
	assert.Equal(t, []string{"/linkwright", "codec-server", "-listen", fmt.Sprintf(":%d", codec.ServerPort)}, c.Command)
	assert.Empty(t, c.Args)
	assertPort(t, c, "http", codec.ServerPort)
	assertProbe(t, "codec server liveness", c.LivenessProbe, codecHealthzPath, "http")
	assertProbe(t, "codec server readiness", c.ReadinessProbe, codecHealthzPath, "http")
	assertSecure(t, d, c)
	env := envOf(c)
	assert.Equal(t, fileOf(t, d, c, "codec-keys", "keys"), env[codec.EnvKeysFile], codec.EnvKeysFile)
	assert.Equal(t, fileOf(t, d, c, "codec-auth", "token"), env[codec.EnvAuthTokenFile], codec.EnvAuthTokenFile)

	s := m.services[codecName]
	require.NotNil(t, s, "the codec server's Service")
	require.Len(t, s.Spec.Ports, 1)
	assert.Equal(t, int32(codec.ServerPort), s.Spec.Ports[0].Port)
	assert.Equal(t, intstr.FromString("http"), s.Spec.Ports[0].TargetPort)
	assert.True(t, labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)), "the Service selects the codec server's pods")
	assert.False(t, labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(m.deployments[workerName].Spec.Template.Labels)), "and not the worker's")
}

func checkAll(t *testing.T, m *manifests) {
	require.Len(t, m.deployments, 2)
	checkWorker(t, m)
	checkCodecServer(t, m)
	for name := range m.deployments {
		assertSelects(t, m, name)
	}
	for _, o := range m.all {
		assert.Equal(t, "linkwright", o.GetLabels()["app.kubernetes.io/part-of"], "%s: the common labels", o.GetName())
	}
	for _, d := range m.deployments {
		assert.Equal(t, "linkwright", d.Spec.Template.Labels["app.kubernetes.io/part-of"], "%s's pods: the common labels", d.Name)
	}
}

func TestBase(t *testing.T) {
	m := build(t, baseDir)
	checkAll(t, m)
	assert.Empty(t, m.configMaps, "the config is the overlay's")
	for _, o := range m.all {
		assert.Empty(t, o.GetNamespace(), "%s: the namespace is the overlay's", o.GetName())
	}
	for _, d := range m.deployments {
		assert.Equal(t, "linkwright", d.Spec.Template.Spec.Containers[0].Image, "%s: the overlay sets the image", d.Name)
	}
}

func TestExampleOverlay(t *testing.T) {
	for _, dir := range []string{exampleDir, exampleMTLSDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := build(t, dir)
			checkAll(t, m)
			for _, o := range m.all {
				assert.Equal(t, exampleNS, o.GetNamespace(), "%s: the overlay's namespace", o.GetName())
			}
			for _, d := range m.deployments {
				assert.Equal(t, exampleImage, d.Spec.Template.Spec.Containers[0].Image, d.Name)
			}
			origins := envOf(container(t, m.deployments[codecName], "codec-server"))[codec.EnvAllowOrigins]
			assert.True(t, strings.HasPrefix(origins, "https://"), "%s: the Web UI's origin, got %q", codec.EnvAllowOrigins, origins)

			// The generated config map is the one the worker mounts, and
			// the worker's config code accepts it with the pod's env.
			require.Len(t, m.configMaps, 1)
			var cm *corev1.ConfigMap
			for _, c := range m.configMaps {
				cm = c
			}
			assert.Equal(t, cm.Name, volume(t, m.deployments[workerName], "config").ConfigMap.Name)
			checkConfig(t, m.deployments[workerName], cm.Data[configKey])

			w := container(t, m.deployments[workerName], "worker")
			env := envOf(w)
			if dir == exampleMTLSDir {
				assert.Equal(t, fileOf(t, m.deployments[workerName], w, "temporal-tls", "tls.crt"), env["TEMPORAL_TLS_CLIENT_CERT_PATH"])
				assert.Equal(t, fileOf(t, m.deployments[workerName], w, "temporal-tls", "tls.key"), env["TEMPORAL_TLS_CLIENT_KEY_PATH"])
			} else {
				assert.NotContains(t, env, "TEMPORAL_TLS_CLIENT_CERT_PATH")
			}
		})
	}
}

// checkConfig loads the example config the way the worker does, with the
// container's env, and checks its cloud and tracker sections.
func checkConfig(t *testing.T, d *appsv1.Deployment, data string) {
	require.NotEmpty(t, data)
	path := filepath.Join(t.TempDir(), configKey)
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "LINKWRIGHT_") {
			t.Setenv(k, "") // nothing from the developer's shell
		}
	}
	env := envOf(container(t, d, "worker"))
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv(envConfig, path)
	cfg, err := config.Load()
	require.NoError(t, err, "the example config with the worker's env")
	assert.Equal(t, env[envStateDir], cfg.StateDir, "%s is the state dir the worker uses", envStateDir)
	assert.Equal(t, env[admin.EnvListen], cfg.Admin.Listen, "%s is the admin address the worker uses", admin.EnvListen)
	assert.Equal(t, env[envDeployment], cfg.Deployment.Name, "%s is the deployment the worker uses", envDeployment)
	assert.NotEmpty(t, cfg.Policy.Approvers)

	require.Equal(t, "aws", cfg.Cloud, "the example is a real cloud")
	_, err = aws.ParseOptions(cfg.AWS)
	require.NoError(t, err, "the example's aws section")
	require.Equal(t, "jira", cfg.Tracker)
	t.Setenv("JIRA_API_TOKEN", "from-the-secret")
	_, err = jira.ParseOptions(cfg.Jira)
	require.NoError(t, err, "the example's jira section, with JIRA_API_TOKEN from linkwright-tracker")
}

// --- Secrets: secrets.md is the one list ---------------------------------

type secretDoc struct {
	name, typ string
	keys      []string
	optional  bool // "no…" in the Required column; "yes" and "with …" are required where used
	command   *secretCommand
}

type secretCommand struct {
	typ  string
	keys []string
}

var backticked = regexp.MustCompile("`([^`]+)`")

// documentedSecrets reads the table and the kubectl commands of secrets.md.
func documentedSecrets(t *testing.T) map[string]*secretDoc {
	t.Helper()
	data, err := os.ReadFile("secrets.md")
	require.NoError(t, err)
	docs := map[string]*secretDoc{}
	for line := range strings.Lines(string(data)) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 8 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		d := &secretDoc{name: name, typ: strings.TrimSpace(cells[2]), optional: strings.HasPrefix(strings.TrimSpace(cells[6]), "no")}
		for _, k := range backticked.FindAllStringSubmatch(cells[3], -1) {
			d.keys = append(d.keys, k[1])
		}
		require.NotContains(t, docs, name, "secrets.md lists %s twice", name)
		docs[name] = d
	}
	require.NotEmpty(t, docs, "secrets.md's table")

	// The commands, with their continuation lines joined.
	joined := strings.ReplaceAll(string(data), "\\\n", " ")
	for line := range strings.Lines(joined) {
		f := strings.Fields(line)
		i := slices.Index(f, "create")
		if len(f) == 0 || f[0] != "kubectl" || i < 0 || i+3 >= len(f) || f[i+1] != "secret" {
			continue
		}
		kind, name := f[i+2], f[i+3]
		d := docs[name]
		require.NotNil(t, d, "secrets.md creates %s, which its table does not list", name)
		c := &secretCommand{typ: map[string]string{"generic": "Opaque", "tls": "kubernetes.io/tls"}[kind]}
		if kind == "tls" {
			c.keys = []string{"tls.crt", "tls.key"}
		}
		for _, a := range f[i+4:] {
			for _, p := range []string{"--from-literal=", "--from-file="} {
				if v, ok := strings.CutPrefix(a, p); ok {
					k, _, _ := strings.Cut(v, "=")
					c.keys = append(c.keys, k)
				}
			}
		}
		require.Nil(t, d.command, "secrets.md creates %s twice", name)
		d.command = c
	}
	for _, d := range docs {
		require.NotNil(t, d.command, "secrets.md has no kubectl command creating %s", d.name)
		assert.Equal(t, d.typ, d.command.typ, "%s: the command makes the table's type", d.name)
		for _, k := range d.command.keys {
			assert.Contains(t, d.keys, k, "%s: the command's key %s is in the table", d.name, k)
		}
		if d.typ == "kubernetes.io/tls" {
			assert.ElementsMatch(t, []string{"tls.crt", "tls.key"}, d.keys, d.name)
		}
	}
	return docs
}

// secretUse is what a build reads of a secret.
type secretUse struct {
	keys     []string // keys read one by one (volume items)
	optional bool
}

func secretsUsed(t *testing.T, m *manifests) map[string]*secretUse {
	used := map[string]*secretUse{}
	use := func(name string, optional *bool, keys ...string) {
		u := used[name]
		if u == nil {
			u = &secretUse{optional: true}
			used[name] = u
		}
		u.optional = u.optional && optional != nil && *optional
		u.keys = append(u.keys, keys...)
	}
	for _, d := range m.deployments {
		spec := d.Spec.Template.Spec
		for _, v := range spec.Volumes {
			switch {
			case v.Secret != nil:
				require.NotEmpty(t, v.Secret.Items, "%s: volume %s names the keys it mounts", d.Name, v.Name)
				var keys []string
				for _, it := range v.Secret.Items {
					keys = append(keys, it.Key)
				}
				use(v.Secret.SecretName, v.Secret.Optional, keys...)
			case v.Projected != nil:
				require.Fail(t, "projected volumes are not checked", "%s: %s", d.Name, v.Name)
			}
		}
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			for _, ef := range c.EnvFrom {
				if ef.SecretRef != nil {
					use(ef.SecretRef.Name, ef.SecretRef.Optional)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					use(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Optional, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
	return used
}

func TestSecretsAreTheDocumentedOnes(t *testing.T) {
	docs := documentedSecrets(t)
	seen := map[string]bool{}
	for _, dir := range []string{baseDir, exampleDir, exampleMTLSDir} {
		for name, u := range secretsUsed(t, build(t, dir)) {
			d := docs[name]
			require.NotNil(t, d, "%s uses Secret %s, which secrets.md does not list", dir, name)
			seen[name] = true
			for _, k := range u.keys {
				assert.Contains(t, d.keys, k, "%s: key %s of %s is in secrets.md", dir, k, name)
				assert.Contains(t, d.command.keys, k, "%s: secrets.md's command for %s creates key %s", dir, name, k)
			}
			assert.Equal(t, d.optional, u.optional, "%s: %s is optional as secrets.md says", dir, name)
		}
	}
	for name := range docs {
		assert.True(t, seen[name], "secrets.md lists %s, which no manifest uses", name)
	}
	assert.Equal(t, "kubernetes.io/tls", docs[mtlsSecret].typ)
	for _, s := range []string{temporalSecret, mtlsSecret, codecKeysSecret, codecAuthSecret} {
		assert.Contains(t, docs, s)
	}

	// The README shows the same names, once it has the Kubernetes section.
	if readme, err := os.ReadFile("../../README.md"); err == nil && bytes.Contains(readme, []byte("kubectl create secret")) {
		for name := range docs {
			assert.Contains(t, string(readme), name, "README.md's Kubernetes section names Secret %s", name)
		}
	}
}

// The keys of linkwright-temporal are the SDK's envconfig variables.
func TestTemporalSecretKeysAreEnvconfigs(t *testing.T) {
	d := documentedSecrets(t)[temporalSecret]
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "TEMPORAL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
	want := map[string]string{"TEMPORAL_ADDRESS": "example.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "ns.a1b2c", "TEMPORAL_API_KEY": "key"}
	require.ElementsMatch(t, slices.Collect(maps.Keys(want)), d.keys)
	for k, v := range want {
		t.Setenv(k, v)
	}
	opts, err := envconfig.LoadDefaultClientOptions()
	require.NoError(t, err)
	assert.Equal(t, want["TEMPORAL_ADDRESS"], opts.HostPort)
	assert.Equal(t, want["TEMPORAL_NAMESPACE"], opts.Namespace)
	assert.NotNil(t, opts.Credentials, "TEMPORAL_API_KEY")
}

// --- Every YAML file, strictly ---------------------------------------------

// TestYAMLFilesDecodeStrictly decodes every YAML document under this
// directory by its kind, so that a misspelt field in a patch (which
// kustomize would merge without a word) fails.
func TestYAMLFilesDecodeStrictly(t *testing.T) {
	files, docs := 0, 0
	err := filepath.WalkDir(".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		files++
		n := 0
		r := k8syaml.NewYAMLReader(bufio.NewReader(f))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			if err := decodeStrictly(doc); err != nil {
				t.Errorf("%s (document %d): %v", path, i+1, err)
			}
			n++
		}
		assert.NotZero(t, n, "%s: no document", path)
		docs += n
		return nil
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, files, 12, "YAML files found")
	t.Logf("%d documents in %d files decoded", docs, files)
}

func decodeStrictly(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var into any
	switch tm.Kind {
	case "Kustomization", "Component":
		into = &kustypes.Kustomization{}
	case "Deployment":
		into = &appsv1.Deployment{}
	case "Service":
		into = &corev1.Service{}
	case "ServiceAccount":
		into = &corev1.ServiceAccount{}
	case "ConfigMap":
		into = &corev1.ConfigMap{}
	case "PodDisruptionBudget":
		into = &policyv1.PodDisruptionBudget{}
	default:
		return fmt.Errorf("unknown kind %q (apiVersion %q): add it to the test", tm.Kind, tm.APIVersion)
	}
	if want, ok := apiVersions[tm.Kind]; ok && tm.APIVersion != want {
		return fmt.Errorf("%s: apiVersion %q, want %q", tm.Kind, tm.APIVersion, want)
	}
	return yaml.UnmarshalStrict(doc, into)
}

func ptr[T any](v T) *T { return &v }
