package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// CertReloader serves the TLS certificate of a key pair on disk and picks
// up a new one when the files change (a cert-manager renewal, a rotated
// Secret volume), without a restart. A pair that fails to load keeps the
// previous certificate in service; LastError says why.
type CertReloader struct {
	certFile, keyFile string
	interval          time.Duration
	now               func() time.Time

	mu       sync.Mutex
	cert     *tls.Certificate
	stamp    string // size and modification time of both files
	checked  time.Time
	lastErr  error
	reloaded int
}

// NewCertReloader loads certFile and keyFile (PEM) and returns a reloader
// that checks them for changes at most once per interval (a second when
// zero or less). Errors: files that do not load as a key pair.
func NewCertReloader(certFile, keyFile string, interval time.Duration) (*CertReloader, error) {
	if interval <= 0 {
		interval = time.Second
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, interval: interval, now: time.Now}
	stamp, err := r.fileStamp()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamp); err != nil {
		return nil, err
	}
	return r, nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		stamp, err := r.fileStamp()
		switch {
		case err != nil:
			r.lastErr = err
		case stamp != r.stamp:
			if err := r.load(stamp); err != nil {
				r.lastErr = err
			}
		}
	}
	return r.cert, nil
}

// LastError returns the error of the last failed reload, or nil when the
// certificate in service is the latest on disk.
func (r *CertReloader) LastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// Reloads returns how many times a changed pair was loaded.
func (r *CertReloader) Reloads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloaded
}

// load reads the pair; on success it replaces the certificate. Callers
// hold mu, except NewCertReloader.
func (r *CertReloader) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair %s, %s: %w", r.certFile, r.keyFile, err)
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		cert.Leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	if r.cert != nil {
		r.reloaded++
	}
	r.cert, r.stamp, r.lastErr = &cert, stamp, nil
	return nil
}

// fileStamp identifies the current contents of both files cheaply.
func (r *CertReloader) fileStamp() (string, error) {
	var stamp string
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("TLS key pair: %w", err)
		}
		stamp += fmt.Sprintf("%d:%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return stamp, nil
}

// CA is a certificate authority the webhook manages itself when it runs
// in a cluster without cert-manager: it signs the serving certificate, and
// its certificate is the caBundle of the webhook configurations.
type CA struct {
	// Cert is the CA certificate, PEM.
	Cert []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a CA valid for validity, named cn.
func NewCA(cn string, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now().Add(-5 * time.Minute)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now,
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := sign(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("issue CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: pemBlock("CERTIFICATE", der), cert: cert, key: key}, nil
}

// Issue makes a serving certificate and key (PEM) for the DNS names and
// IP addresses given (at least one), valid for validity but never beyond
// the CA.
func (ca *CA) Issue(dnsNames []string, ips []net.IP, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(dnsNames) == 0 && len(ips) == 0 {
		return nil, nil, errors.New("issue serving certificate: no DNS name or IP address")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate serving key: %w", err)
	}
	now := time.Now().Add(-5 * time.Minute)
	notAfter := now.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	cn := ""
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		NotBefore:   now,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    dnsNames,
		IPAddresses: ips,
	}
	der, err := sign(tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, priv *ecdsa.PrivateKey) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// KeyPEM returns the CA's private key as PEM (PKCS #8), to keep it in a
// Secret shared by the webhook's replicas.
func (ca *CA) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("marshal CA key: %w", err)
	}
	return pemBlock("PRIVATE KEY", der), nil
}

// ParseCA reads a CA written by Cert and KeyPEM. Errors: PEM that does not
// hold a CA certificate and its ECDSA key.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA key pair: %w", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !cert.IsCA {
		return nil, errors.New("CA key pair: not an ECDSA certificate authority")
	}
	return &CA{Cert: certPEM, cert: cert, key: key}, nil
}
