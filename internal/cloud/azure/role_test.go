package azure

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// implied are permissions Azure checks on a call besides the call's own.
var implied = map[string][]string{
	// A private endpoint joins the platform subnet; a load balancer write
	// re-joins its frontend's subnet.
	"Microsoft.Network/privateEndpoints/write": {"Microsoft.Network/virtualNetworks/subnets/join/action"},
	"Microsoft.Network/loadBalancers/write":    {"Microsoft.Network/virtualNetworks/subnets/join/action"},
}

// usedPermissions is every permission the provider's calls name: each call
// is classified with the permission it needs (the second argument of
// classify), so a new call cannot go in without one.
func usedPermissions(t *testing.T) []string {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "classify" {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok {
				// a constant: find its value
				if ident, ok := call.Args[1].(*ast.Ident); ok && ident.Obj != nil {
					if vs, ok := ident.Obj.Decl.(*ast.ValueSpec); ok && len(vs.Values) == 1 {
						lit, _ = vs.Values[0].(*ast.BasicLit)
					}
				}
			}
			require.NotNil(t, lit, "%s: classify's permission must be a literal or constant", fset.Position(call.Pos()))
			perm, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			seen[perm] = true
			for _, p := range implied[perm] {
				seen[p] = true
			}
			return true
		})
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func TestRoleGrantsExactlyWhatTheCodeUses(t *testing.T) {
	data, err := os.ReadFile("../../../deployments/azure/role.json")
	require.NoError(t, err)
	var role struct {
		Actions []string
	}
	require.NoError(t, json.Unmarshal(data, &role))
	used := usedPermissions(t)
	require.NotEmpty(t, used)
	for _, p := range used {
		assert.Contains(t, role.Actions, p, "the code needs %s but deployments/azure/role.json lacks it", p)
	}
	for _, p := range role.Actions {
		assert.NotContains(t, p, "*", "least privilege: no wildcards")
		assert.Contains(t, used, p, "deployments/azure/role.json grants %s but the code never uses it", p)
	}
}
