package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"

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
	adm := cs.AdmissionregistrationV1()
	for _, name := range validating {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			c, err := adm.ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			changed := false
			for i := range c.Webhooks {
				if !bytes.Equal(c.Webhooks[i].ClientConfig.CABundle, caPEM) {
					c.Webhooks[i].ClientConfig.CABundle, changed = caPEM, true
				}
			}
			if !changed {
				return nil
			}
			_, err = adm.ValidatingWebhookConfigurations().Update(ctx, c, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("inject caBundle into ValidatingWebhookConfiguration %s: %w", name, err))
		}
	}
	for _, name := range mutating {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			c, err := adm.MutatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			changed := false
			for i := range c.Webhooks {
				if !bytes.Equal(c.Webhooks[i].ClientConfig.CABundle, caPEM) {
					c.Webhooks[i].ClientConfig.CABundle, changed = caPEM, true
				}
			}
			if !changed {
				return nil
			}
			_, err = adm.MutatingWebhookConfigurations().Update(ctx, c, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("inject caBundle into MutatingWebhookConfiguration %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// IsNotFound reports whether err says a webhook configuration does not
// exist (yet): a webhook started before `webhook install` applied them
// retries later.
func IsNotFound(err error) bool {
	var se apierrors.APIStatus
	return errors.As(err, &se) && se.Status().Reason == metav1.StatusReasonNotFound
}
