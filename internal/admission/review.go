package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultMaxReviewSize is the body size limit DecodeReview applies when
// given none: 7 MiB, room for an object and its old version at the API
// server's own request limit (3 MiB) plus the review's envelope.
const DefaultMaxReviewSize = 7 << 20

// ErrReviewTooLarge is wrapped by DecodeReview's error for a body over
// its limit.
var ErrReviewTooLarge = errors.New("admission review too large")

// ErrInvalidReview is wrapped by DecodeReview's error for a body that is
// not an admission.k8s.io/v1 AdmissionReview request.
var ErrInvalidReview = errors.New("invalid admission review")

// DecodeReview reads one AdmissionReview from r, at most limit bytes
// (DefaultMaxReviewSize when limit <= 0). It requires apiVersion
// admission.k8s.io/v1, kind AdmissionReview, a request with a UID, a
// kind and a known operation, and nothing after the JSON value. Errors
// wrap ErrReviewTooLarge, ErrInvalidReview, or the reader's error.
func DecodeReview(r io.Reader, limit int64) (*admissionv1.AdmissionReview, error) {
	if limit <= 0 {
		limit = DefaultMaxReviewSize
	}
	if r == nil {
		return nil, fmt.Errorf("%w: no body", ErrInvalidReview)
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read admission review: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrReviewTooLarge, limit)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var review admissionv1.AdmissionReview
	if err := dec.Decode(&review); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidReview, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the review", ErrInvalidReview)
	}
	if review.APIVersion != admissionv1.SchemeGroupVersion.String() || review.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("%w: apiVersion %q, kind %q: want %q, %q", ErrInvalidReview,
			truncateRunes(review.APIVersion, 64), truncateRunes(review.Kind, 64), admissionv1.SchemeGroupVersion.String(), "AdmissionReview")
	}
	req := review.Request
	switch {
	case req == nil:
		return nil, fmt.Errorf("%w: no request", ErrInvalidReview)
	case req.UID == "":
		return nil, fmt.Errorf("%w: request without uid", ErrInvalidReview)
	case req.Kind.Kind == "" || req.Kind.Version == "":
		return nil, fmt.Errorf("%w: request %s: no kind", ErrInvalidReview, req.UID)
	}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect:
	default:
		return nil, fmt.Errorf("%w: request %s: unknown operation %q", ErrInvalidReview, req.UID, truncateRunes(string(req.Operation), 64))
	}
	review.Response = nil
	return &review, nil
}

// Limits of what Response puts in a response. The API server truncates
// warnings past 4096 runes in all to 256 runes each and drops those with
// control characters; Response keeps within that so every warning
// arrives whole.
const (
	// MaxWarnings is the most warnings a response carries; the last one
	// says how many more there were.
	MaxWarnings = 16
	// MaxWarningRunes is the length of one warning.
	MaxWarningRunes = 256
	// MaxMessageRunes is the length of a denial message.
	MaxMessageRunes = 4096
)

// Response returns the admission.k8s.io/v1 AdmissionReview answering
// review with d: the request's UID, allowed, on denial a Failure status
// with code 403 and d's message, d's warnings (sanitized, de-duplicated
// and bounded: MaxWarnings, MaxWarningRunes), d's patch as a JSONPatch,
// and d's audit annotations. review or its request may be nil (the UID
// is then d's).
func Response(review *admissionv1.AdmissionReview, d Decision) *admissionv1.AdmissionReview {
	resp := &admissionv1.AdmissionResponse{UID: d.UID, Allowed: d.Allowed}
	if review != nil && review.Request != nil {
		resp.UID = review.Request.UID
	}
	if !d.Allowed {
		msg := d.Message
		if msg == "" {
			msg = "denied by kubeshield"
		}
		resp.Result = &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: truncateRunes(sanitize(msg), MaxMessageRunes),
		}
	}
	resp.Warnings = boundWarnings(d.Warnings)
	if d.Allowed && len(d.Patch) > 0 {
		if patch, err := json.Marshal(d.Patch); err == nil {
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
		} else {
			// A value that cannot be written: deny rather than admit
			// an object the policies meant to change.
			resp.Allowed = false
			resp.Result = &metav1.Status{
				Status:  metav1.StatusFailure,
				Code:    http.StatusInternalServerError,
				Reason:  metav1.StatusReasonInternalError,
				Message: "kubeshield: patch: " + truncateRunes(sanitize(err.Error()), 256),
			}
		}
	}
	if len(d.AuditAnnotations) > 0 {
		resp.AuditAnnotations = make(map[string]string, len(d.AuditAnnotations))
		for _, k := range sortedKeys(d.AuditAnnotations) {
			resp.AuditAnnotations[k] = sanitize(d.AuditAnnotations[k])
		}
	}
	return &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: resp,
	}
}

// boundWarnings sanitizes, de-duplicates and bounds warnings.
func boundWarnings(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for i, w := range in {
		w = truncateRunes(strings.TrimSpace(sanitize(w)), MaxWarningRunes)
		if w == "" || seen[w] {
			continue
		}
		if len(out) == MaxWarnings-1 {
			if n := countNew(in[i:], seen); n > 1 {
				out = append(out, fmt.Sprintf("kubeshield: %d more warnings not shown", n))
				break
			}
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// countNew counts the distinct warnings of ws not in seen.
func countNew(ws []string, seen map[string]bool) int {
	n := 0
	local := map[string]bool{}
	for _, w := range ws {
		w = truncateRunes(strings.TrimSpace(sanitize(w)), MaxWarningRunes)
		if w != "" && !seen[w] && !local[w] {
			local[w] = true
			n++
		}
	}
	return n
}

// sanitize makes s valid UTF-8 without control characters (replaced by
// spaces), as HTTP Warning headers require.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// truncateRunes shortens s to n runes, the last one "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
