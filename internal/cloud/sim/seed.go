package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/linkwright/linkwright/internal/cloud"
)

// The platform's own accounts in the simulated clouds.
const (
	PlatformAWSAccount        = "210987654321"
	PlatformAzureSubscription = "99999999-aaaa-bbbb-cccc-dddddddddddd"
	// PlatformAlibabaAccount is the platform's Alibaba Cloud account UID,
	// which customers put on their services' whitelists.
	PlatformAlibabaAccount = "5123456789012345"
)

// seed is the inventory a new simulated cloud starts with: several projects,
// Pro and Starter plans, production, staging and integration environments,
// more than one region, on AWS, Azure and Alibaba Cloud. Each AWS
// deployment is in three availability zones: those the platform's account
// names a, b and c. Each Alibaba deployment has vSwitches in its region's
// first two zones (cn-hangzhou-h and cn-hangzhou-i); its production service
// also takes consumers from cn-shanghai, its staging service accepts
// connections from whitelisted accounts without a decision.
//
// A state saved before a cloud was simulated gets that cloud's
// environments when it is opened: see addMissingClouds.
func seed() *state {
	st := &state{Services: map[string]*service{}, Endpoints: map[string]*endpoint{}, Tokens: map[string]string{}}
	add := func(cloudName, region, project, env, plan string) *environment {
		e := &environment{Environment: cloud.Environment{
			EnvRef: cloud.EnvRef{Cloud: cloudName, Region: region, Project: project, Environment: env},
			Plan:   plan,
		}}
		svc := &service{Cloud: cloudName, Platform: true}
		h := shortHash(e.EnvRef.String())
		switch cloudName {
		case "aws":
			e.Account = PlatformAWSAccount
			e.Principal = "arn:aws:iam::" + PlatformAWSAccount + ":root"
			e.Zones = deploymentZones(PlatformAWSAccount, region)
			svc.ID = "vpce-svc-" + h[:17]
			svc.Name = fmt.Sprintf("com.amazonaws.vpce.%s.%s", region, svc.ID)
		case "azure":
			e.Account = PlatformAzureSubscription
			e.Principal = PlatformAzureSubscription
			plsName := "pls-" + project + "-" + env
			svc.ID = fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-%s/providers/Microsoft.Network/privateLinkServices/%s", PlatformAzureSubscription, project, plsName)
			svc.Name = fmt.Sprintf("%s.%s-%s-%s-%s-%s.%s.azure.privatelinkservice", plsName, h[0:8], h[8:12], h[12:16], h[16:20], h[20:32], region)
		case cloudAlibaba:
			e.Account = PlatformAlibabaAccount
			e.Principal = PlatformAlibabaAccount
			e.Zones = alibabaFirstZones(region, alibabaPlatformZoneCount)
			svc.ID = "epsrv-" + h[:20]
			svc.Name = fmt.Sprintf("com.aliyuncs.privatelink.%s.%s", region, svc.ID)
			svc.ResourceType = "nlb"
		}
		svc.Owner = e.Account
		e.ServiceName, e.ServiceID = svc.Name, svc.ID
		st.Environments = append(st.Environments, e)
		st.Services[key(svc.Name)] = svc
		return e
	}
	add("aws", "us-east-1", "abcd1234efgh5", "production", "pro")
	add("aws", "us-east-1", "abcd1234efgh5", "staging", "pro")
	add("aws", "us-east-1", "abcd1234efgh5", "integration", "pro")
	add("aws", "eu-west-1", "eu7k2m9p4q1xz", "production", "pro")
	add("aws", "us-east-1", "start3r0000ab", "production", "starter")
	add("azure", "westeurope", "azure1234abcd", "production", "pro")
	add("azure", "westeurope", "azure1234abcd", "staging", "pro")
	add("alibaba", "cn-hangzhou", "alibaba12345a", "production", "pro").Regions = []string{"cn-shanghai"}
	add("alibaba", "cn-hangzhou", "alibaba12345a", "staging", "pro").AutoAccept = true
	return st
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
