package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// InjectCABundle writes caPEM as the caBundle of every webhook of the
// ValidatingWebhookConfigurations and MutatingWebhookConfigurations named
// (those that already hold it are left alone), retrying on update
// conflicts. It needs get and update on those configurations, nothing
// more. Errors: a configuration that does not exist, or an API error; all
// are attempted and the errors joined.
func InjectCABundle(ctx context.Context, cs kubernetes.Interface, validating, mutating []string, caPEM []byte) error {
	var errs []error
	v, m := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations(), cs.AdmissionregistrationV1().MutatingWebhookConfigurations()
	for _, name := range validating {
		err := inject(ctx, name, v.Get, v.Update, func(c *admissionregistrationv1.ValidatingWebhookConfiguration) bool {
			changed := false
			for i := range c.Webhooks {
				changed = setBundle(&c.Webhooks[i].ClientConfig, caPEM) || changed
			}
			return changed
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("inject caBundle into ValidatingWebhookConfiguration %s: %w", name, err))
		}
	}
	for _, name := range mutating {
		err := inject(ctx, name, m.Get, m.Update, func(c *admissionregistrationv1.MutatingWebhookConfiguration) bool {
			changed := false
			for i := range c.Webhooks {
				changed = setBundle(&c.Webhooks[i].ClientConfig, caPEM) || changed
			}
			return changed
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("inject caBundle into MutatingWebhookConfiguration %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// inject gets a configuration, lets set change it and updates it when it
// did, retrying on conflicts.
func inject[T any](ctx context.Context, name string, get func(context.Context, string, metav1.GetOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error), set func(T) bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !set(c) {
			return nil
		}
		_, err = update(ctx, c, metav1.UpdateOptions{})
		return err
	})
}

// setBundle sets cc's caBundle and reports whether it changed.
func setBundle(cc *admissionregistrationv1.WebhookClientConfig, caPEM []byte) bool {
	if bytes.Equal(cc.CABundle, caPEM) {
		return false
	}
	cc.CABundle = caPEM
	return true
}

// IsNotFound reports whether err says a webhook configuration does not
// exist (yet): a webhook started before `webhook install` applied them
// retries later.
func IsNotFound(err error) bool {
	var se apierrors.APIStatus
	return errors.As(err, &se) && se.Status().Reason == metav1.StatusReasonNotFound
}
