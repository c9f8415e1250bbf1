package alibaba

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

// typedCalls are the RAM actions of every typed SDK call in the provider's
// code (c.pl.X(...) and c.nlb.X(...)), and of every action named to
// common(...) as a string literal or a constant of the file.
func typedCalls(t *testing.T) []string {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			ce, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := ce.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if inner, ok := sel.X.(*ast.SelectorExpr); ok && (inner.Sel.Name == "pl" || inner.Sel.Name == "nlb") {
				product := productPrivateLink
				if inner.Sel.Name == "nlb" {
					product = productNLB
				}
				if sel.Sel.Name != "ProcessCommonRequest" {
					out = append(out, product+":"+sel.Sel.Name)
				}
			}
			if sel.Sel.Name == "common" && len(ce.Args) >= 3 {
				if lit, ok := ce.Args[2].(*ast.BasicLit); ok {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, productPrivateLink+":"+s)
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func policyActions(t *testing.T) []string {
	data, err := os.ReadFile("../../../deployments/alibaba/ram-policy.json")
	require.NoError(t, err)
	var doc struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Equal(t, "1", doc.Version, "RAM policy documents are version 1")
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

func TestRAMPolicyGrantsExactlyWhatTheCodeCalls(t *testing.T) {
	declared := slices.Sorted(slices.Values(Actions))
	assert.Equal(t, declared, policyActions(t), "deployments/alibaba/ram-policy.json and alibaba.Actions must list the same actions")
	calls := typedCalls(t)
	require.Contains(t, calls, "nlb:CreateListener", "the scan finds typed calls")
	require.Contains(t, calls, "privatelink:GetVpcEndpointServiceAttribute", "the scan finds CommonRequest calls")
	for _, a := range calls {
		assert.Contains(t, declared, a, "the code calls %s but alibaba.Actions (and the RAM policy) do not list it", a)
	}
}
