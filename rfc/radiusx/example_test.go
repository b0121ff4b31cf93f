package radiusx_test

import (
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

// A request signed with a Message-Authenticator, and checked on receipt.
func ExampleEncode() {
	secret := []byte("example-secret")
	p := radius.New(radius.CodeAccessRequest, secret)
	rfc2865.UserName_SetString(p, "alice")
	b, err := radiusx.Encode(p)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(b), radiusx.VerifyRequest(b, secret))
	// Output: 45 <nil>
}
