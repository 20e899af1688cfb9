// gradio-portal browser adapter: navigation decided in Python.
//
// Injected into every mounted Gradio page through mount_gradio_app(head=...), after a
// script that sets window.__gradioPortal = {loginUrl, allowedOrigins, marker}.
// It wraps window.fetch (Gradio 6 reads every API response, the queue/data event stream
// included, through the global fetch) and, for same-origin ".../gradio_api/..." requests:
//
//  1. adds "X-Gradio-Portal-Page: <path + query of this page>" to the request;
//  2. on a 401, sends the browser to <loginUrl>?next=<path + query + hash of this page>;
//  3. finds Gradio errors whose message is MARKER + {"url": ..., "replace": ...}, in the
//     event stream (process_completed, success false, output.error) and in JSON error
//     bodies (/run/ answers 500 {"error": ...}); it navigates and drops the message, so
//     no toast shows. A target that is not http(s) on this origin (or an allowed origin)
//     is not followed: the message becomes "Refused to navigate to an unsafe address".
//
// Once a navigation has started, wrapped streams never end and wrapped fetches never fail:
// leaving the page aborts them (Gradio aborts its own stream on beforeunload), and Gradio
// would report "connection lost" for the pending event and start reconnecting.
(() => {
  "use strict";
  if (window.__gradioPortalInstalled || typeof window.fetch !== "function") return;
  window.__gradioPortalInstalled = true;

  const config = window.__gradioPortal || {};
  const MARKER = config.marker || "gradio-portal:navigate:";
  const LOGIN_URL = config.loginUrl || "/login";
  const REFUSED = "Refused to navigate to an unsafe address";
  const PAGE_HEADER = "X-Gradio-Portal-Page";
  const allowedOrigins = new Set();
  for (const origin of config.allowedOrigins || []) {
    try {
      allowedOrigins.add(new URL(origin).origin);
    } catch (_) {
      // Ignore malformed entries: they can never match.
    }
  }

  const originalFetch = window.fetch;
  const never = () => new Promise(() => {});
  let navigating = false;

  // -- navigation ------------------------------------------------------------------------

  // The absolute URL to open, or null when the target is not allowed.
  function checkedTarget(url) {
    if (typeof url !== "string") return null;
    let target;
    try {
      target = new URL(url, window.location.href);
    } catch (_) {
      return null;
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") return null;
    if (target.origin !== window.location.origin && !allowedOrigins.has(target.origin)) {
      return null;
    }
    return target;
  }

  // Leaving for the sign-in page means the session ended: nothing of the user's work may
  // stay in this browser (Gradio's run history, BrowserState). The portal's sign-out answers
  // also send Clear-Site-Data; this covers sign-outs that happen inside a Gradio event.
  function clearSiteStorage() {
    for (const storage of [window.localStorage, window.sessionStorage]) {
      try {
        storage.clear();
      } catch (_) {
        // Storage can be disabled; then there is nothing to clear.
      }
    }
  }

  function navigate(target, replace) {
    if (navigating) return;
    navigating = true;
    const here = window.location;
    const login = new URL(LOGIN_URL, here.href);
    if (target.origin === login.origin && target.pathname === login.pathname) {
      clearSiteStorage();
    }
    if (replace) here.replace(target.href);
    else here.assign(target.href);
    // A change of the #fragment alone does not leave the page, and Gradio would wait
    // forever for the dropped event: load the target for real.
    if (
      target.origin === here.origin &&
      target.pathname === here.pathname &&
      target.search === here.search &&
      target.hash
    ) {
      here.reload();
    }
  }

  // The page was restored from the back/forward cache after a navigation of ours: its
  // Gradio session is in an unusable state, so start it afresh.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && navigating) window.location.reload();
  });

  function toLogin() {
    if (navigating) return;
    const here = window.location;
    const next = here.pathname + here.search + here.hash;
    const separator = LOGIN_URL.includes("?") ? "&" : "?";
    // Replace: "back" from the login page should not return to a page that needs it.
    navigate(new URL(LOGIN_URL + separator + "next=" + encodeURIComponent(next), here.href), true);
  }

  // Decide what to do with an error message. Returns "navigate" (a navigation started),
  // "refuse" (a marker message whose target is not allowed) or null (not ours).
  function handleError(message) {
    if (typeof message !== "string" || !message.startsWith(MARKER)) return null;
    let order;
    try {
      order = JSON.parse(message.slice(MARKER.length));
    } catch (_) {
      return "refuse";
    }
    const target = order && checkedTarget(order.url);
    if (!target) {
      console.warn("gradio-portal: refused to navigate to", order && order.url);
      return "refuse";
    }
    navigate(target, order.replace === true);
    return "navigate";
  }

  // -- the event stream (Server-Sent Events) ---------------------------------------------

  // One complete SSE line: return it unchanged, rewritten, or null to drop it.
  function filterLine(line) {
    if (!line.startsWith("data:") || !line.includes(MARKER)) return line;
    let message;
    try {
      message = JSON.parse(line.slice(5));
    } catch (_) {
      return line;
    }
    const output = message && message.msg === "process_completed" && message.output;
    if (!output || message.success !== false) return line;
    const verdict = handleError(output.error);
    if (verdict === "navigate") return null;
    if (verdict === "refuse") {
      output.error = REFUSED;
      return "data: " + JSON.stringify(message);
    }
    return line;
  }

  // Text made of complete lines ("...\n"): filtered the same way, line by line.
  function filterText(text) {
    if (!text.includes(MARKER)) return text; // The fast path: nearly every chunk.
    const lines = text.split("\n");
    const out = [];
    for (let i = 0; i < lines.length; i++) {
      const last = i === lines.length - 1;
      const line = lines[i];
      const cr = line.endsWith("\r") ? "\r" : "";
      const kept = filterLine(cr ? line.slice(0, -1) : line);
      if (kept !== null) out.push(kept + cr + (last ? "" : "\n"));
    }
    return out.join("");
  }

  // A Response whose body is the event stream with our messages filtered out. Chunks are
  // cut at the last newline, so a line split across network chunks is seen whole.
  function filterEventStream(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    let carry = "";
    const body = new ReadableStream({
      async pull(controller) {
        for (;;) {
          let chunk;
          try {
            chunk = await reader.read();
          } catch (error) {
            if (navigating) return never();
            controller.error(error);
            return;
          }
          if (chunk.done) {
            const rest = filterText(carry + decoder.decode());
            carry = "";
            if (rest) controller.enqueue(encoder.encode(rest));
            if (navigating) return never();
            controller.close();
            return;
          }
          const text = carry + decoder.decode(chunk.value, { stream: true });
          const end = text.lastIndexOf("\n") + 1;
          carry = text.slice(end);
          const lines = end ? filterText(text.slice(0, end)) : "";
          if (lines) {
            controller.enqueue(encoder.encode(lines));
            return;
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  // -- JSON error answers (/run/ and other non-streaming calls) -------------------------

  async function filterJsonError(response) {
    let text;
    try {
      text = await response.clone().text();
    } catch (_) {
      return response;
    }
    if (!text.includes(MARKER)) return response;
    let body;
    try {
      body = JSON.parse(text);
    } catch (_) {
      return response;
    }
    const verdict = body && handleError(body.error);
    if (verdict === "navigate") return never();
    if (verdict !== "refuse") return response;
    body.error = REFUSED;
    return new Response(JSON.stringify(body), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  // -- the fetch wrapper ------------------------------------------------------------------

  function gradioApiUrl(input) {
    const raw = input instanceof Request ? input.url : String(input);
    try {
      const url = new URL(raw, window.location.href);
      return url.origin === window.location.origin && url.pathname.includes("/gradio_api/");
    } catch (_) {
      return false;
    }
  }

  window.fetch = function fetch(input, init) {
    if (!gradioApiUrl(input)) return originalFetch.call(window, input, init);
    if (navigating) return never();

    // Explicit init.headers replace a Request's own headers, as in fetch itself.
    const headers = new Headers(
      init && init.headers !== undefined
        ? init.headers
        : input instanceof Request
          ? input.headers
          : undefined,
    );
    headers.set(PAGE_HEADER, window.location.pathname + window.location.search);

    return originalFetch.call(window, input, { ...init, headers }).then(
      (response) => {
        if (navigating) return never();
        if (response.status === 401) {
          toLogin();
          return never();
        }
        const type = response.headers.get("content-type") || "";
        if (type.startsWith("text/event-stream") && response.body) {
          return filterEventStream(response);
        }
        if (!response.ok && type.includes("json")) return filterJsonError(response);
        return response;
      },
      (error) => {
        if (navigating) return never();
        throw error;
      },
    );
  };
})();
