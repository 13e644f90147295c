package cloudtrail

import (
	"bytes"
	stdjson "encoding/json"
	"io"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	goccy "github.com/goccy/go-json"
	"github.com/klauspost/compress/gzip"

	"convert/internal/gen"
	"convert/internal/reader"
)

// The benchmarks read one realistic log file ({"Records":[…]}, about 8 MiB
// of JSON from internal/gen) from memory. b.SetBytes is the JSON size, so
// MB/s is uncompressed JSON per core.
//
//	go test -run XXX -bench . -benchmem ./internal/reader/cloudtrail/
//
// BenchmarkDecoders compares ways to decode the same records: encoding/json
// and goccy/go-json streaming one record at a time into a struct of the
// table (the JSON-text columns as RawMessage), and this package's scanner,
// alone and as the whole Reader building Arrow batches. The struct decoders
// do less than the Reader: they keep no unmapped fields, merge case variants
// silently, and build no Arrow arrays.

var benchInput = sync.OnceValue(func() []byte { return gen.CloudTrailSample(1, 8<<20) })

// benchStruct is the table as a Go struct, for the struct decoders.
type benchStruct struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity *struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		InvokedBy   string `json:"invokedBy"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
		OnBehalfOf  *struct {
			UserID           string `json:"userId"`
			IdentityStoreArn string `json:"identityStoreArn"`
		} `json:"onBehalfOf"`
		SessionContext *struct {
			Attributes *struct {
				MFAAuthenticated string `json:"mfaAuthenticated"`
				CreationDate     string `json:"creationDate"`
			} `json:"attributes"`
			SessionIssuer *struct {
				Type        string `json:"type"`
				PrincipalID string `json:"principalId"`
				ARN         string `json:"arn"`
				AccountID   string `json:"accountId"`
				UserName    string `json:"userName"`
			} `json:"sessionIssuer"`
			EC2RoleDelivery     string `json:"ec2RoleDelivery"`
			WebIDFederationData *struct {
				FederatedProvider string            `json:"federatedProvider"`
				Attributes        map[string]string `json:"attributes"`
			} `json:"webIdFederationData"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	EventTime           string             `json:"eventTime"`
	EventSource         string             `json:"eventSource"`
	EventName           string             `json:"eventName"`
	AWSRegion           string             `json:"awsRegion"`
	SourceIPAddress     string             `json:"sourceIPAddress"`
	UserAgent           string             `json:"userAgent"`
	ErrorCode           string             `json:"errorCode"`
	ErrorMessage        string             `json:"errorMessage"`
	RequestParameters   stdjson.RawMessage `json:"requestParameters"`
	ResponseElements    stdjson.RawMessage `json:"responseElements"`
	AdditionalEventData stdjson.RawMessage `json:"additionalEventData"`
	RequestID           string             `json:"requestID"`
	EventID             string             `json:"eventID"`
	Resources           []struct {
		ARN       string `json:"ARN"`
		AccountID string `json:"accountId"`
		Type      string `json:"type"`
	} `json:"resources"`
	EventType                    string             `json:"eventType"`
	APIVersion                   string             `json:"apiVersion"`
	ReadOnly                     stdjson.RawMessage `json:"readOnly"`
	RecipientAccountID           string             `json:"recipientAccountId"`
	ServiceEventDetails          stdjson.RawMessage `json:"serviceEventDetails"`
	SharedEventID                string             `json:"sharedEventID"`
	VPCEndpointID                string             `json:"vpcEndpointId"`
	VPCEndpointAccountID         string             `json:"vpcEndpointAccountId"`
	EventCategory                string             `json:"eventCategory"`
	SessionCredentialFromConsole stdjson.RawMessage `json:"sessionCredentialFromConsole"`
	EdgeDeviceDetails            stdjson.RawMessage `json:"edgeDeviceDetails"`
	Addendum                     *struct {
		Reason            string `json:"reason"`
		UpdatedFields     string `json:"updatedFields"`
		OriginalRequestID string `json:"originalRequestID"`
		OriginalEventID   string `json:"originalEventID"`
	} `json:"addendum"`
	TLSDetails *struct {
		TLSVersion               string `json:"tlsVersion"`
		CipherSuite              string `json:"cipherSuite"`
		ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
	} `json:"tlsDetails"`
}

// tokenDecoder is what encoding/json's and goccy's Decoders share.
type tokenDecoder interface {
	Token() (stdjson.Token, error)
	More() bool
	Decode(any) error
}

type goccyDecoder struct{ *goccy.Decoder }

func (d goccyDecoder) Token() (stdjson.Token, error) { return d.Decoder.Token() }

// decodeStructs streams the Records array into benchStruct values, as the
// PERF-NOTES baseline does.
func decodeStructs(b *testing.B, dec tokenDecoder) int {
	for {
		tok, err := dec.Token()
		if err != nil {
			b.Fatal(err)
		}
		if tok == "Records" {
			break
		}
	}
	if _, err := dec.Token(); err != nil { // [
		b.Fatal(err)
	}
	n := 0
	for dec.More() {
		var rec benchStruct
		if err := dec.Decode(&rec); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

func BenchmarkDecoders(b *testing.B) {
	in := benchInput()
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			decodeStructs(b, stdjson.NewDecoder(bytes.NewReader(in)))
		}
	})
	b.Run("goccy-go-json", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			decodeStructs(b, goccyDecoder{goccy.NewDecoder(bytes.NewReader(in))})
		}
	})
	b.Run("scanner-only", func(b *testing.B) {
		// The record decoder over the Records array, without Arrow.
		start := bytes.IndexByte(in, '[') + 1
		d := newDecoder(DefaultMaxDepth)
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			for i := start; in[i] != ']'; {
				end, err := d.decode(in[i:])
				if err != nil {
					b.Fatal(err)
				}
				d.um.finish()
				i += end
				if in[i] == ',' {
					i++
				}
			}
		}
	})
	b.Run("reader-arrow", func(b *testing.B) { benchmarkReader(b, in) })
}

// BenchmarkReader is the whole Reader: framing, decoding and Arrow batches.
func BenchmarkReader(b *testing.B) { benchmarkReader(b, benchInput()) }

func benchmarkReader(b *testing.B, in []byte) {
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(in), Config{Object: "bench", Mem: memory.DefaultAllocator})
		if err != nil {
			b.Fatal(err)
		}
		for rd.Next() {
		}
		if err := rd.Err(); err != nil {
			b.Fatal(err)
		}
		rd.Release()
	}
}

// BenchmarkReaderGzip adds decompression (reader.Decode, klauspost gzip) in
// front of the Reader, as the pipeline runs it: MB/s of uncompressed JSON.
func BenchmarkReaderGzip(b *testing.B) {
	in := benchInput()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(in); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("gunzip-only", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			dec, err := reader.Decode(io.NopCloser(bytes.NewReader(gz.Bytes())))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, dec); err != nil {
				b.Fatal(err)
			}
			dec.Close()
		}
	})
	b.Run("gunzip+reader", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			dec, err := reader.Decode(io.NopCloser(bytes.NewReader(gz.Bytes())))
			if err != nil {
				b.Fatal(err)
			}
			rd, err := NewReader(dec, Config{Object: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			for rd.Next() {
			}
			if err := rd.Err(); err != nil {
				b.Fatal(err)
			}
			rd.Release()
			dec.Close()
		}
	})
}

// BenchmarkReaderSmallReads feeds the Reader through small reads, the worst
// case for its buffer refills.
func BenchmarkReaderSmallReads(b *testing.B) {
	in := benchInput()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(io.LimitReader(&oneShotReader{b: in, max: 4 << 10}, int64(len(in))), Config{Object: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		for rd.Next() {
		}
		if err := rd.Err(); err != nil {
			b.Fatal(err)
		}
		rd.Release()
	}
}

// oneShotReader returns at most max bytes per Read.
type oneShotReader struct {
	b   []byte
	max int
}

func (r *oneShotReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.max)], r.b)
	r.b = r.b[n:]
	return n, nil
}
