package strictjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inner struct {
	Port int `json:"port"`
}

type outer struct {
	VPCID string  `json:"vpcId"`
	Items []inner `json:"items"`
	Inner inner   `json:"inner"`
}

func TestDecode(t *testing.T) {
	var o outer
	require.NoError(t, Decode([]byte(`{"vpcId": "vpc-1", "items": [{"port": 1}], "inner": {"port": 2}}`), &o))
	assert.Equal(t, outer{VPCID: "vpc-1", Items: []inner{{1}}, Inner: inner{2}}, o)

	assert.EqualError(t, Decode([]byte(`{"vpcID": "vpc-1"}`), &o), `field "vpcID": did you mean "vpcId"? (field names are case-sensitive)`)
	assert.EqualError(t, Decode([]byte(`{"items": [{"Port": 1}]}`), &o), `field "items[0].Port": did you mean "port"? (field names are case-sensitive)`)
	assert.EqualError(t, Decode([]byte(`{"inner": {"PORT": 1}}`), &o), `field "inner.PORT": did you mean "port"? (field names are case-sensitive)`)
	assert.ErrorContains(t, Decode([]byte(`{"subnet": "x"}`), &o), `unknown field "subnet"`)
}
