/* Closeloop web widget: closeloop.survey({...}) and, for pages moving from Delighted, delighted.survey({...}).
 * <script src="<site>/web/snippet.js" data-key="pk_..." async></script>
 * Plain script, no dependency, no request but to the site that serves it, no cookie: the visitor's random id
 * and when this key may ask again live in the page's localStorage. The card is drawn in a shadow root, never
 * covers the page (no backdrop, no focus trap) and closes with Escape or its close button. */
(function (window, document) {
  "use strict";
  var script = document.currentScript;
  if (!script || (window.closeloop && window.closeloop.version)) return;
  var src = new URL(script.src, document.baseURI);
  var key = script.getAttribute("data-key") || src.searchParams.get("key") || "";
  var api = src.origin + src.pathname.replace(/\/web\/snippet\.js$/, "") + "/web/v1/" + encodeURIComponent(key) + "/";
  var store = "closeloop:" + key + ":";
  // When the page was opened (not when this script arrived): minTimeOnPage counts from there.
  var loadedAt = Date.now() - (window.performance && performance.now ? performance.now() : 0);
  var OPTIONS = ["email", "name", "createdAt", "properties", "sampleFactor", "recurringPeriod", "initialDelay",
    "minTimeOnPage", "forceDisplay"];
  var host = null;
  var busy = false;

  function read(name) {
    try { return window.localStorage.getItem(store + name); } catch (e) { return null; }
  }

  function write(name, value) {
    try { window.localStorage.setItem(store + name, value); } catch (e) { /* private mode: the server decides */ }
  }

  function visitorId() {
    var id = read("visitor");
    if (!id) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
      write("visitor", id);
    }
    return id;
  }

  function post(path, body) {
    return window.fetch(api + path, {
      method: "POST", mode: "cors", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw data; return data; });
    });
  }

  // Not asked again before the time the server gave when it last showed a card ("never" for once ever), per
  // person: on a shared computer, the next person signed in is not silenced by the previous one's card.
  function nextName(opts) {
    return "next:" + (typeof opts.email === "string" ? opts.email.toLowerCase() : "");
  }

  function waiting(opts) {
    var next = read(nextName(opts));
    return !opts.forceDisplay && next !== null && (next === "never" || Date.now() < Number(next));
  }

  function survey(options) {
    var opts = options && typeof options === "object" ? options : {};
    if (!key || host || busy || waiting(opts)) return;
    busy = true;
    var wait = Math.max(0, (Number(opts.minTimeOnPage) || 0) * 1000 - (Date.now() - loadedAt));
    window.setTimeout(function () {
      var body = { visitor: visitorId() };
      OPTIONS.forEach(function (name) { if (opts[name] !== undefined) body[name] = opts[name]; });
      post("survey", body).then(function (data) {
        busy = false;
        if (!data.show || host) return;
        write(nextName(opts), data.next_after === null ? "never" : String(Date.now() + data.next_after * 1000));
        if (document.body) show(data.token, data.survey);
        else document.addEventListener("DOMContentLoaded", function () { show(data.token, data.survey); });
      }, function () { busy = false; });
    }, wait);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "on") node.addEventListener("click", attrs[name]);
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  var STYLE = ":host{all:initial}" +
    ".card{position:fixed;z-index:2147483000;right:16px;bottom:16px;box-sizing:border-box;" +
    "width:min(420px,calc(100vw - 32px));max-height:calc(100vh - 32px);overflow:auto;padding:16px;" +
    "background:#fff;color:#1a1a1a;border:1px solid #767676;border-radius:8px;box-shadow:0 4px 24px rgba(0,0,0,.25);" +
    "font:16px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;text-align:left}" +
    "@media (max-width:480px){.card{left:8px;right:8px;bottom:8px;width:auto}}" +
    "fieldset{border:0;margin:0;padding:0;min-width:0}" +
    "legend,.q{display:block;padding:0;margin:0 44px 12px 0;font-weight:600}" +
    ".scale{display:grid;grid-template-columns:repeat(var(--n),minmax(0,1fr));gap:4px}" +
    // On a phone, a long scale (NPS: 0 to 10) takes two rows of at least 40 px wide buttons.
    "@media (max-width:480px){.long{grid-template-columns:repeat(6,minmax(0,1fr))}}" +
    "button{font:inherit;cursor:pointer;border-radius:6px;min-height:44px;padding:0 12px}" +
    ".scale button{min-width:0;padding:0}" +
    ".opt{background:#fff;color:#1a1a1a;border:1px solid #767676}" +
    ".main{background:var(--c);color:#fff;border:1px solid var(--c)}" +
    ".ends{display:flex;justify-content:space-between;gap:8px;margin-top:6px;font-size:14px;color:#595959}" +
    ".x{position:absolute;top:6px;right:6px;width:44px;padding:0;background:#fff;border:0;font-size:24px;color:#1a1a1a}" +
    ":focus-visible{outline:3px solid var(--c);outline-offset:2px}" +
    "textarea{display:block;width:100%;box-sizing:border-box;min-height:80px;font:inherit;padding:8px;" +
    "border:1px solid #767676;border-radius:6px;color:#1a1a1a;background:#fff}" +
    "label.c{display:flex;gap:8px;align-items:center;min-height:44px}" +
    ".row{display:flex;gap:8px;justify-content:flex-end;margin-top:12px}" +
    ".p{margin:0 44px 8px 0;font-size:14px;color:#595959}p{margin:0 44px 12px 0}a{color:inherit}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";

  function show(token, card) {
    var words = card.words;
    var root, body, status, step;
    var questions = [];
    var given = {};  // the answers to additional questions so far, by question id
    host = el("div", { "data-closeloop": "widget" });
    root = host.attachShadow({ mode: "open" });
    var panel = el("aside", { "class": "card", "aria-label": words.title, lang: card.locale }, [
      body = el("div"),
      el("button", { type: "button", "class": "x", "aria-label": words.close, text: "\u00d7", on: close }),
      status = el("p", { "class": "sr", role: "status" })
    ]);
    panel.style.setProperty("--c", card.color);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.stopPropagation(); close(); }
    });
    // A constructed style sheet where the browser has them: a page's Content-Security-Policy without
    // 'unsafe-inline' styles does not stop it, as it would a <style> element.
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("style", { text: STYLE }));
    }
    root.appendChild(panel);
    // First in the page's tab order, so that a keyboard reaches it at once; drawn in a corner of the screen.
    document.body.insertBefore(host, document.body.firstChild);

    function focused() { return root.activeElement !== null; }

    function render(nodes) {
      var hadFocus = focused();
      body.textContent = "";
      nodes.forEach(function (node) { body.appendChild(node); });
      var first = body.querySelector("textarea,input,button,a");
      if (hadFocus && first) first.focus();
    }

    function answer(data, then) {
      data.token = token;
      post("answer", data).then(then, function () { then(null); });
    }

    function scoreStep() {
      var scale = el("div", { "class": card.scores.length > 7 ? "scale long" : "scale" }, card.scores.map(function (item) {
        return el("button", {
          type: "button", "class": "opt", "aria-label": item.name, text: item.shows,
          on: function () { pick(item.score); }
        });
      }));
      scale.style.setProperty("--n", String(card.scores.length));
      step = el("fieldset", {}, [
        el("legend", { text: card.question }),
        scale,
        el("div", { "class": "ends", "aria-hidden": "true" }, [
          el("span", { text: card.low_label }), el("span", { text: card.high_label })
        ])
      ]);
      render([step]);
    }

    function pick(score) {
      answer({ score: score }, function (data) {
        if (!data) return;
        status.textContent = words.recorded;
        questions = data.questions;
        if (data.ask_reason) reasonStep(); else questionStep(0);
      });
    }

    function buttons(onSkip, onNext) {
      return el("div", { "class": "row" }, [
        el("button", { type: "button", "class": "opt", text: words.skip, on: onSkip }),
        el("button", { type: "button", "class": "main", text: words.next, on: onNext })
      ]);
    }

    function reasonStep() {
      var box = el("textarea", { id: "cl-reason", placeholder: words.optional, maxlength: "5000" });
      render([
        el("label", { "class": "q", "for": "cl-reason", text: words.reason }), box,
        buttons(function () { questionStep(0); }, function () {
          if (!box.value.trim()) return questionStep(0);
          answer({ comment: box.value }, function () { questionStep(0); });
        })
      ]);
    }

    function questionStep(index) {
      var question = questions[index];
      if (!question) return thanksStep();
      // Asked only when an earlier answer is one of the condition's values (as the respondent page does).
      var condition = question.show_if;
      if (condition && !(given[condition.question] || []).some(function (v) { return condition.values.indexOf(v) >= 0; })) {
        return questionStep(index + 1);
      }
      var name = "cl-q" + question.id;
      var progress = words.question_of.replace("{n}", index + 1).replace("{total}", questions.length);
      var field, value;
      if (question.kind === "free_text") {
        var box = el("textarea", { id: name, placeholder: words.optional, maxlength: "5000" });
        field = el("div", {}, [el("label", { "class": "q", "for": name, text: question.text }), box]);
        value = function () { return box.value.trim() ? [box.value] : []; };
      } else {
        var many = question.kind === "select_many";
        var choices = question.kind === "scale"
          ? Array.apply(null, Array(question.scale_max)).map(function (_, i) {
            return { value: String(i + 1), label: String(i + 1) };
          })
          : question.choices;
        field = el("fieldset", {}, [el("legend", { text: question.text })].concat(
          many ? [el("p", { "class": "p", text: words.choose_all })] : [],
          choices.map(function (choice) {
            return el("label", { "class": "c" }, [
              el("input", { type: many ? "checkbox" : "radio", name: name, value: choice.value }),
              el("span", { text: choice.label })
            ]);
          })
        ));
        value = function () {
          return Array.prototype.map.call(field.querySelectorAll("input:checked"), function (i) { return i.value; });
        };
      }
      render([el("p", { "class": "p", text: progress }), field, buttons(function () { questionStep(index + 1); },
        function () {
          var chosen = value();
          given[question.id] = chosen;
          if (!chosen.length) return questionStep(index + 1);
          answer({ question: question.id, value: chosen }, function () { questionStep(index + 1); });
        })]);
    }

    function thanksStep() {
      var link = card.thank_you_link_url;
      render([
        el("p", { text: card.thank_you_message || words.thanks }),
        link ? el("p", {}, [el("a", { href: link, target: "_blank", rel: "noopener", text: words.thanks_link })]) : null,
        el("div", { "class": "row" }, [el("button", { type: "button", "class": "main", text: words.close, on: close })])
      ].filter(Boolean));
      status.textContent = words.thanks;
    }

    scoreStep();
    window.setTimeout(function () { status.textContent = words.title + ". " + card.question; }, 100);
  }

  function close() {
    if (!host) return;
    host.parentNode.removeChild(host);
    host = null;
  }

  // Calls made before the script loaded, queued by Delighted's loader or by the one-line stub in the docs.
  var queued = [];
  var stubs = [];
  ["delighted", "closeloop"].forEach(function (name) {
    var stub = window[name];
    if (Array.isArray(stub) && stubs.indexOf(stub) < 0) { stubs.push(stub); queued = queued.concat(stub); }
  });
  var widget = { version: "1", survey: survey, close: close };
  // Delighted's loader defines these; pages may still call them: they do nothing here.
  ["reset", "config", "init", "set", "get", "event", "identify", "track", "page", "screen", "group", "alias"]
    .forEach(function (name) { widget[name] = function () {}; });
  window.closeloop = widget;
  if (!window.delighted || Array.isArray(window.delighted)) window.delighted = widget;
  queued.forEach(function (call) {
    if (call && call[0] === "survey") survey.apply(null, call[1] || []);
  });
})(window, document);
