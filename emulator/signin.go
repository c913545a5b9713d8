package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// CompleteSignIn plays the user's browser for an authorize URL: it opens
// the sign-in page, submits its form (clicking "Sign in") and follows the
// answer to the app's redirect URI, so the app's loopback listener receives
// the code (or the error) as it would from a browser. It returns an error
// holding the page's or the redirect's error text when the sign-in was
// rejected. Errors never contain the code. A nil client means
// http.DefaultClient.
func CompleteSignIn(ctx context.Context, client *http.Client, authorizeURL string) error {
	if client == nil {
		client = http.DefaultClient
	}
	start, err := url.Parse(authorizeURL)
	if err != nil || start.Host == "" {
		return fmt.Errorf("the authorize URL %q is not an absolute URL", authorizeURL)
	}
	// Redirects are followed by hand, to notice when the answer leaves the
	// authority for the app.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return fmt.Errorf("the authorize URL is not usable: %w", err)
	}
	var appErr error // an error Entra sent back to the app
	for range 10 {
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("sign-in: requesting %s: %w", redact(req.URL), unwrapURLError(err))
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()

		if !strings.EqualFold(req.URL.Host, start.Host) {
			// This was the delivery to the app's redirect URI.
			if resp.StatusCode >= 400 {
				return errors.Join(appErr, fmt.Errorf("sign-in: the app's redirect listener at %s answered %s", redact(req.URL), resp.Status))
			}
			return appErr
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				return fmt.Errorf("sign-in: the authority redirected to an unusable address")
			}
			appErr = answerError(next.Query())
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil); err != nil {
				return fmt.Errorf("sign-in: %w", err)
			}
			continue
		}
		doc, _ := html.Parse(strings.NewReader(string(body)))
		form := find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "form" })
		if resp.StatusCode >= 400 || form == nil {
			msg := ""
			if el := find(doc, func(n *html.Node) bool { return attr(n, "id") == "error" }); el != nil {
				msg = strings.TrimSpace(text(el))
			}
			if msg == "" {
				msg = "the page shows no sign-in form (" + resp.Status + ")"
			}
			return fmt.Errorf("sign-in was rejected: %s", msg)
		}
		action, err := req.URL.Parse(attr(form, "action"))
		if err != nil {
			return fmt.Errorf("sign-in: the page's form has an unusable action")
		}
		fields := url.Values{}
		walk(form, func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" && attr(n, "type") != "submit" {
				fields.Add(attr(n, "name"), attr(n, "value"))
			}
		})
		if !strings.EqualFold(action.Host, start.Host) {
			appErr = answerError(fields) // form_post to the app
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(fields.Encode()))
		if err != nil {
			return fmt.Errorf("sign-in: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return fmt.Errorf("sign-in: too many pages and redirects; the authority never answered the app")
}

// answerError is the error an authorize answer carries to the app, if any.
func answerError(v url.Values) error {
	if v.Get("error") == "" {
		return nil
	}
	return fmt.Errorf("sign-in was rejected: %s: %s", v.Get("error"), v.Get("error_description"))
}

// redact names a URL without its query, which may hold the code.
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.Path
}

// unwrapURLError drops *url.Error's text, which repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func walk(n *html.Node, f func(*html.Node)) {
	if n == nil {
		return
	}
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func find(n *html.Node, match func(*html.Node) bool) (found *html.Node) {
	walk(n, func(x *html.Node) {
		if found == nil && match(x) {
			found = x
		}
	})
	return found
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
	})
	return b.String()
}
