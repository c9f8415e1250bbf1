package azure

import (
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

func responseError(status int) error {
	return &azcore.ResponseError{StatusCode: status, ErrorCode: http.StatusText(status), RawResponse: &http.Response{StatusCode: status}}
}
