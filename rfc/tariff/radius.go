package tariff

import (
	"fmt"
	"strings"

	"layeh.com/radius"

	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

// MaxChunk is the most tariff text one EdgeBill-Tariff attribute holds:
// a RADIUS attribute value is at most 253 octets (RFC 2865 §5), and a
// Vendor-Specific attribute spends 6 of them on the vendor id, vendor
// type and vendor length (RFC 2865 §5.26).
const MaxChunk = 253 - 6

// Split cuts tariff text into chunks of at most MaxChunk octets, for
// EdgeBill-Tariff attributes in order. It cuts after a ';' where one
// falls in the chunk, so each chunk reads as whole items when it can.
// Text of MaxChunk octets or fewer is one chunk; empty text is none.
func Split(text string) []string {
	var out []string
	for len(text) > MaxChunk {
		cut := strings.LastIndexByte(text[:MaxChunk], ';') + 1
		if cut == 0 {
			cut = MaxChunk
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// Join puts split tariff text back together: the chunks concatenated in
// order, as the dictionary defines EdgeBill-Tariff.
func Join(chunks []string) string { return strings.Join(chunks, "") }

// AddTo appends t's canonical text to p as EdgeBill-Tariff attributes,
// as many as it needs (one for an ordinary plan).
func (t *Tariff) AddTo(p *radius.Packet) error {
	for _, chunk := range Split(t.String()) {
		if err := ebattr.EdgeBillTariff_AddString(p, chunk); err != nil {
			return fmt.Errorf("tariff: adding EdgeBill-Tariff: %w", err)
		}
	}
	return nil
}

// FromPacket parses the tariff carried in p's EdgeBill-Tariff attributes,
// joined in packet order. It returns ErrNoTariff when there is none;
// offsets in a *SyntaxError count from the start of the joined text.
func FromPacket(p *radius.Packet) (*Tariff, error) {
	chunks, err := ebattr.EdgeBillTariff_GetStrings(p)
	if err != nil {
		return nil, fmt.Errorf("tariff: reading EdgeBill-Tariff: %w", err)
	}
	if len(chunks) == 0 {
		return nil, ErrNoTariff
	}
	return Parse(Join(chunks))
}
