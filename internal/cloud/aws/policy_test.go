package aws

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// implied are IAM actions AWS checks on a call besides the call's own:
// tags given at creation need the tagging permission.
var implied = map[string][]string{
	"ec2:CreateVpcEndpoint":                  {"ec2:CreateTags"},
	"elasticloadbalancing:CreateTargetGroup": {"elasticloadbalancing:AddTags"},
}

// calledActions is every IAM action the provider can call: the methods of
// its client interfaces (the compiler allows no other calls), each of which
// must also be called somewhere in the provider's code.
func calledActions(t *testing.T) []string {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	prefix := map[string]string{"ec2API": svcEC2, "elbAPI": svcELB, "stsAPI": svcSTS}
	declared := map[string]string{} // method -> action
	called := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.TypeSpec:
				if it, ok := n.Type.(*ast.InterfaceType); ok && prefix[n.Name.Name] != "" {
					for _, m := range it.Methods.List {
						declared[m.Names[0].Name] = prefix[n.Name.Name] + ":" + m.Names[0].Name
					}
				}
			case *ast.SelectorExpr:
				called[n.Sel.Name] = true
			}
			return true
		})
	}
	var actions []string
	for method, action := range declared {
		assert.True(t, called[method] || pagedThrough(method), "interface method %s is never called: remove it (and its IAM action)", method)
		actions = append(actions, action)
		actions = append(actions, implied[action]...)
	}
	slices.Sort(actions)
	return actions
}

// pagedThrough are methods the code calls through the SDK's paginators.
func pagedThrough(method string) bool {
	return method == "DescribeVpcEndpointServiceConfigurations" || method == "DescribeVpcEndpointConnections" || method == "DescribeListeners" ||
		method == "DescribeVpcEndpointServicePermissions"
}

func policyActions(t *testing.T) []string {
	data, err := os.ReadFile("../../../deployments/aws/iam-policy.json")
	require.NoError(t, err)
	var doc struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	var actions []string
	for _, s := range doc.Statement {
		require.Equal(t, "Allow", s.Effect)
		for _, a := range s.Action {
			require.NotContains(t, a, "*", "least privilege: no wildcard actions")
			actions = append(actions, a)
		}
	}
	slices.Sort(actions)
	return actions
}

func TestIAMPolicyGrantsExactlyWhatTheCodeCalls(t *testing.T) {
	code, policy := calledActions(t), policyActions(t)
	for _, a := range code {
		assert.Contains(t, policy, a, "the code calls %s but deployments/aws/iam-policy.json does not grant it", a)
	}
	for _, a := range policy {
		assert.Contains(t, code, a, "deployments/aws/iam-policy.json grants %s but the code never calls it", a)
	}
}
