// Interlock web UI: commands to the gateway's JSON endpoints, form rows, live desk, countdowns.
// State-changing requests carry X-Requested-With (the cookie's CSRF guard, see services/web/access.py).
(function () {
  "use strict";
  var CSRF = { "X-Requested-With": "interlock-ui" };

  // ------------------------------------------------------------------ messages
  function announce(message, kind) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    flash.className = "flash show " + (kind || "ok");
    flash.textContent = message;
    clearTimeout(announce.timer);
    announce.timer = setTimeout(function () { flash.className = "flash"; }, 6000);
  }

  // ------------------------------------------------------------ form → JSON
  function convert(input, value) {
    var type = input.dataset.type;
    if (type === "number") { var n = Number(value); return isNaN(n) ? value : n; }
    if (type === "minutes") { var m = Number(String(value).replace(",", ".")); return isNaN(m) ? value : Math.round(m * 60); }
    if (type === "int") { var i = parseInt(value, 10); return isNaN(i) ? value : i; }
    if (type === "datetime") {
      var picker = input.dataset.zone && document.getElementById(input.dataset.zone);
      if (picker && picker.value && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) return zonedToUtc(value, picker.value) || value;
      var d = new Date(value); return isNaN(d.getTime()) ? value : d.toISOString();
    }
    if (type === "list") { return value.split(",").map(function (s) { return s.trim(); }).filter(Boolean); }
    if (type === "bool") { return value === "true"; }
    return value;
  }

  // a wall time typed in an explicit IANA zone → the UTC instant (ISO 8601), by the browser's
  // own zone database (Intl), whatever zone the browser itself runs in
  function zoneOffsetMinutes(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    var asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day),
      Number(parts.hour), Number(parts.minute), Number(parts.second));
    return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  }
  function zonedToUtc(wall, zone) {
    try {
      var naive = new Date(wall.slice(0, 16) + ":00Z");
      if (isNaN(naive.getTime())) return null;
      var utc = new Date(naive.getTime() - zoneOffsetMinutes(naive, zone) * 60000);
      var again = zoneOffsetMinutes(utc, zone);
      utc = new Date(naive.getTime() - again * 60000);
      return utc.toISOString();
    } catch (e) { return null; }
  }
  window.interlockZonedToUtc = zonedToUtc;

  function setPath(target, path, value) {
    var parts = path.split(".");
    var node = target;
    for (var i = 0; i < parts.length - 1; i++) {
      var key = parts[i];
      var nextIsIndex = /^\d+$/.test(parts[i + 1]);
      if (node[key] === undefined) node[key] = nextIsIndex ? [] : {};
      node = node[key];
    }
    node[parts[parts.length - 1]] = value;
  }

  function compact(value) {
    if (Array.isArray(value)) return value.filter(function (v) { return v !== undefined; }).map(compact);
    if (value && typeof value === "object") {
      Object.keys(value).forEach(function (k) { value[k] = compact(value[k]); });
    }
    return value;
  }

  function personPosition(form, rowIndex) {
    var rows = Array.prototype.filter.call(form.querySelectorAll(".person-row"), function (r) { return !blankRow(r); });
    for (var i = 0; i < rows.length; i++) if (rows[i].dataset.index === rowIndex) return i;
    return null;
  }

  function blankRow(row) {
    // an entity row whose typed fields are all empty is left out (its selects have defaults)
    var typed = row.querySelectorAll("input:not([type=hidden]), textarea");
    return Array.prototype.every.call(typed, function (i) { return !i.value.trim(); });
  }

  function formJson(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.disabled || input.type === "submit" || input.type === "button") return;
      var row = input.closest(".entity-row");
      if (row && blankRow(row)) return;
      if (input.closest("[data-show-when][hidden]")) return;
      if ((input.type === "checkbox" || input.type === "radio") && !input.checked) return;
      var value = input.value;
      if (value === "" || value === undefined) return;
      if (input.hasAttribute("data-person-select")) {
        var pos = personPosition(form, value);
        if (pos === null) return;
        setPath(body, input.name, pos);
        return;
      }
      if (input.dataset.type === "each") {
        body[input.name] = (body[input.name] || []).concat([value]);
        return;
      }
      setPath(body, input.name, convert(input, value));
    });
    return compact(body);
  }

  // ---------------------------------------------------------------- errors
  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function rowName(form, field) {
    // errors name array positions; the form's inputs carry row ids, so map position → row id
    var parts = field.split(".");
    for (var i = 0; i < parts.length - 1; i++) {
      if (/^\d+$/.test(parts[i + 1]) && (parts[i] === "persons" || parts[i] === "identifiers")) {
        var rows = Array.prototype.filter.call(
          form.querySelectorAll(parts[i] === "persons" ? ".person-row" : ".ident-row"),
          function (r) { return !blankRow(r); });
        var row = rows[Number(parts[i + 1])];
        if (row) parts[i + 1] = row.dataset.index;
      }
    }
    return parts.join(".");
  }

  function showErrors(form, errors) {
    // each field's error once, next to that field (the live check beside it gives way); what
    // has no field on the form comes back to be said above it, with the field's name
    var unplaced = [];
    (errors || []).forEach(function (e) {
      var field = String(e.field || "").replace(/^(body|query|path)\./, "");
      var name = rowName(form, field);
      var slot = form.querySelector('[data-error-for="' + name + '"]') ||
        form.querySelector('[data-error-for="' + name + '.value"]');
      var input = form.querySelector('[name="' + name + '"]') || form.querySelector('[name="' + name + '.value"]');
      if (input) input.setAttribute("aria-invalid", "true");
      if (slot) {
        if (slot.textContent) return;
        slot.textContent = e.message;
        var row = slot.closest(".entity-row");
        var check = row && row.querySelector(".check");
        if (check) check.textContent = "";
      } else {
        unplaced.push((e.label || field) + ": " + e.message);
      }
    });
    return unplaced;
  }

  // a corrected field's error goes as the user types
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.name || !input.hasAttribute || !input.hasAttribute("aria-invalid")) return;
    input.removeAttribute("aria-invalid");
    var form = input.closest("form");
    var slot = form && form.querySelector('[data-error-for="' + input.name + '"]');
    if (slot) slot.textContent = "";
  });

  // --------------------------------------------------------------- commands
  function freshKeys(form) {
    form.querySelectorAll("[data-fresh-key]").forEach(function (input) {
      var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
      input.value = input.dataset.freshKey + "-" + id;
    });
  }

  function resultText(form, body, status) {
    var label = form.dataset.success || "Done";
    if (status === 202) return label + ": accepted, the outcome is pending.";
    var id = body.lead_id || body.task_id || body.operation_id || body.alert_id || body.hit_id;
    return label + (id ? " (" + id + ")" : "") + ".";
  }

  // a sensitive act refused for want of a recent (or stronger) sign-in (RFC 9470): back to the
  // member's own identity provider with the max_age and acr_values the gateway asked for
  function stepUpUrl(challenge, here) {
    if (challenge.indexOf("insufficient_user_authentication") < 0) return null;
    var idp = document.body.dataset.idp;
    if (!idp) return null;
    var query = ["next=" + encodeURIComponent(here)];
    var age = /max_age=(\d+)/.exec(challenge);
    if (age) query.push("max_age=" + age[1]);
    var acr = /acr_values="([^"]*)"/.exec(challenge);
    if (acr) query.push("acr_values=" + encodeURIComponent(acr[1]));
    return "/ui/login/oidc/" + encodeURIComponent(idp) + "?" + query.join("&");
  }

  function sendCommand(form) {
    var button = form.querySelector("[type=submit]");
    var result = form.querySelector("[data-result]");
    clearErrors(form);
    var body = formJson(form);
    if (form.hasAttribute("data-mentions") && typeof body.text === "string") {
      var named = mentionsIn(body.text);
      if (named.members.length) body.mentions = named.members;
      if (named.desks.length) body.desks = named.desks;
    }
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    return fetch(form.dataset.command, {
      method: form.dataset.method || "POST",
      credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, CSRF),
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) {
          var text = resultText(form, data, response.status);
          if (result) {
            result.className = "result ok";
            result.textContent = text;
            if (data.lead_id && form.id === "lead-form") {
              var jit = document.body.dataset.jit;
              var link = document.createElement("a");
              link.href = "/ui/jits/" + jit + "/leads/" + data.lead_id;
              link.textContent = " Open the lead";
              result.appendChild(link);
            }
          }
          announce(text, "ok");
          if (form.hasAttribute("data-reset")) {
            form.reset();
            form.querySelectorAll(".rows").forEach(function (rows) { rows.innerHTML = ""; });
            freshKeys(form);
            if (form.id === "lead-form") { addRow("person-row", true); addRow("identifier-row", true); }
            applyShowWhen(form);
          }
          if (form.hasAttribute("data-reload")) { setTimeout(function () { location.reload(); }, 1500); }
          var panel = form.closest("details");
          if (panel) panel.dataset.done = "1";  // sent: a refresh may replace it now
          document.body.dispatchEvent(new CustomEvent("interlock:changed", { bubbles: true }));
        } else if (response.status === 401) {
          var here = location.pathname + location.search;
          var stepUp = stepUpUrl(response.headers.get("WWW-Authenticate") || "", here);
          if (stepUp) {
            var why = (data.detail || data.error || "This act needs a recent sign-in") + ".";
            if (result) { result.className = "result error"; result.textContent = why; }
            announce(why + " Taking you to your identity provider; do it again when you are back.", "error");
            setTimeout(function () { location.href = stepUp; }, 1200);
          } else {
            announce("Your session has expired: sign in again.", "error");
            location.href = "/ui/login?next=" + encodeURIComponent(here);
          }
        } else {
          var errors = data.errors || [];
          var unplaced = showErrors(form, errors);
          var placed = errors.length - unplaced.length;
          var verb = form.dataset.failure || "Not sent";
          var message;
          if (!errors.length) message = data.error || ("Refused (" + response.status + ")");
          else if (!unplaced.length) message = verb + ": correct " + (placed === 1 ? "the field" : "the " + placed + " fields") + " marked below.";
          else message = verb + ": " + unplaced.join(" ") + (placed ? " Also correct the fields marked below." : "");
          if (result) {
            result.className = "result error";
            result.textContent = message;
          }
          var first = form.querySelector("[aria-invalid=true]");
          if (first) first.focus();
          if (!result) announce(message, "error");
        }
      });
    }).catch(function (err) {
      announce("The gateway did not answer: " + err, "error");
    }).finally(function () {
      if (button) button.disabled = false;
      form.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-command]");
    if (!form) return;
    event.preventDefault();
    sendCommand(form);
  });

  // ------------------------------------------------------------ form rows
  var rowCounter = 0;
  function addRow(templateId, quiet) {
    var template = document.getElementById(templateId);
    var fieldset = template.previousElementSibling;
    var rows = fieldset.querySelector(".rows");
    var index = String(rowCounter++);
    var html = template.innerHTML.replace(/__i__/g, index);
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    if (window.htmx) htmx.process(row);
    var first = row.querySelector("input, select");
    if (first && !quiet) first.focus();
    return row;
  }

  function refreshPersonSelect(select) {
    var form = select.closest("form");
    var current = select.value;
    var options = ['<option value="">nobody</option>'];
    form.querySelectorAll(".person-row").forEach(function (row, i) {
      var name = row.querySelector("[data-person-name]").value || "(unnamed)";
      options.push('<option value="' + row.dataset.index + '">' + (i + 1) + ": " + name.replace(/[<&"]/g, "") + "</option>");
    });
    select.innerHTML = options.join("");
    select.value = current;
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) { addRow(add.dataset.addRow); return; }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest(".entity-row");
      var fieldset = row.closest("fieldset");
      row.remove();
      var next = fieldset.querySelector("[data-add-row]");
      if (next) next.focus();
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-person-select]")) refreshPersonSelect(event.target);
  });
  document.addEventListener("mousedown", function (event) {
    if (event.target.matches && event.target.matches("[data-person-select]")) refreshPersonSelect(event.target);
  });

  function applyShowWhen(root) {
    (root || document).querySelectorAll("[data-show-when]").forEach(function (el) {
      var rule = el.dataset.showWhen.split("=");
      var form = el.closest("form");
      var input = form && form.querySelector('[name="' + rule[0] + '"]');
      el.hidden = !(input && input.value === rule[1]);
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.closest("[data-zone-switcher]")) {
      event.target.closest("form").submit();
      return;
    }
    if (event.target.closest("[data-jit-switcher]")) {
      location.href = "/ui/jits/" + encodeURIComponent(event.target.value);
      return;
    }
    applyShowWhen(event.target.closest("form") || document);
  });

  // ------------------------------------------- a refresh must not eat typing
  // A list that refreshes itself (every few seconds, or after a command) never swaps away what
  // the user is in the middle of: a field being typed in, or an open panel (resolve, decline…)
  // not yet sent. The refresh waits; the next one, or closing the panel, brings the list.
  function busyIn(elt) {
    var active = document.activeElement;
    var typing = active && elt.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    return typing || !!elt.querySelector("details[open]:not([data-done])");
  }
  function refreshes(elt) { return (elt.getAttribute("hx-trigger") || "").indexOf("every") >= 0; }
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var trigger = event.detail.triggeringEvent;
    if (!refreshes(elt) || (trigger && trigger.type.indexOf("interlock:") === 0)) return;
    if (busyIn(elt)) event.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || event.detail.elt !== target || !refreshes(target)) return;
    if (busyIn(target)) { event.detail.shouldSwap = false; target.dataset.stale = "1"; }
    else delete target.dataset.stale;
  });
  document.addEventListener("toggle", function (event) {
    var panel = event.target;
    if (panel.open) { delete panel.dataset.done; return; }
    var stale = panel.closest("[data-stale]");
    if (stale && !busyIn(stale)) {
      delete stale.dataset.stale;
      document.body.dispatchEvent(new CustomEvent("interlock:changed", { bubbles: true }));
    }
  }, true);

  // ---------------------------------------------------------- countdowns
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.dataset.deadline);
      if (isNaN(deadline)) return;
      var left = Math.round((deadline - now) / 1000);
      var abs = Math.abs(left);
      var text = Math.floor(abs / 60) + ":" + pad(abs % 60);
      var verb = el.dataset.verb || "escalates";
      var late = el.dataset.late || "escalation due";
      el.textContent = left >= 0 ? verb + " in " + text : late + " " + text + (el.dataset.late ? "" : " ago");
      el.title = "at " + new Date(deadline).toISOString().slice(11, 16) + " UTC";
      el.classList.toggle("urgent", left < 60);
    });
  }
  setInterval(tick, 1000);

  // ------------------------------------------------------------ the desk
  var audio = null;
  function soundOn() { var t = document.getElementById("sound-toggle"); return t && t.checked; }
  function beep() {
    if (!soundOn()) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (offset) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.2, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.25);
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + offset);
        osc.stop(audio.currentTime + offset + 0.3);
      });
    } catch (e) { /* no audio device: the visual cue remains */ }
  }

  function alertOf(message) {
    // a desk message is {"event": CloudEvent, "alert": CloudEvent of the AlertRaised (on pages)}
    if (!message || typeof message !== "object") return {};
    var event = (message.event && message.event.data) || {};
    var raised = (message.alert && message.alert.data) || {};
    return Object.assign({}, event, raised, { jit: raised.jit || (message.event && message.event.jit) });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clientRow(list, message, type) {
    // keep the desk's list up to date from its stream: add an alert the list does not show yet
    // (once: a replayed page finds its row), mark acknowledgements and resolutions, and never
    // move a row backwards (an escalation step or a repeat count only grows). Returns "added",
    // "updated", "unknown" (an alert the message cannot show by itself) or "".
    var event = (message.event && message.event.data) || {};
    var id = event.alert_id;
    if (!id) return "";
    var desk = list.closest("[data-desk]") || list;
    var row = desk.querySelector('[data-alert="' + CSS.escape(id) + '"]');
    var alert = alertOf(message);
    var added = false;
    if (!row && !message.alert) return /routed|escalated/.test(type) ? "unknown" : "";
    if (!row && message.alert) {
      row = el("li", "alert open sev-row-" + String(alert.severity || "p4").toLowerCase());
      row.dataset.alert = id;
      row.dataset.severity = alert.severity || "";
      row.dataset.category = alert.category || "";
      var head = el("div", "alert-head");
      head.appendChild(el("span", "sev sev-" + String(alert.severity || "p4").toLowerCase(), alert.severity || "P?"));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("strong", "", String(alert.category || "").replace(/_/g, " ")));
      var at = alert.raised_at ? new Date(alert.raised_at) : null;
      var when = at && !isNaN(at.getTime()) ? " at " + pad(at.getUTCHours()) + ":" + pad(at.getUTCMinutes()) + " UTC" : "";
      head.appendChild(el("span", "muted", " raised" + when + " by " + (alert.raising_team || "")));
      row.appendChild(head);
      row.appendChild(el("p", "alert-summary", alert.summary || ""));
      var foot = el("div", "alert-foot");
      var deadline = event.next_escalation_at || event.acknowledge_by || alert.escalates_at || alert.acknowledge_by;
      if (deadline) {
        var c = el("span", "countdown", "");
        c.dataset.deadline = deadline;
        if (!(event.next_escalation_at || alert.escalates_at)) { c.dataset.verb = "acknowledge"; c.dataset.late = "acknowledgement overdue by"; }
        else if (event.team_lead) { c.dataset.verb = "escalates to your team lead " + event.team_lead; c.dataset.late = c.dataset.verb + ": due since"; }
        foot.appendChild(c);
      }
      var form = el("form", "inline");
      form.dataset.command = "/jits/" + encodeURIComponent(alert.jit || desk_jit(list)) + "/alerts/" + encodeURIComponent(id) + "/acknowledge";
      form.dataset.success = "Alert acknowledged";
      var button = el("button", "primary", "Acknowledge");
      button.type = "submit";
      button.setAttribute("aria-label", "Acknowledge " + (alert.severity || "") + " " + String(alert.category || "").replace(/_/g, " ") + " alert");
      form.appendChild(button);
      foot.appendChild(form);
      row.appendChild(foot);
      row.dataset.state = "raised";
      row.dataset.step = "0";
      list.insertBefore(row, list.firstChild);
      var empty = desk.querySelector("[data-empty]");
      if (empty) empty.remove();
      added = true;
      tick();
    }
    if (/acknowledged|resolved/.test(type)) {
      var resolved = /resolved/.test(type);
      if (row.dataset.state === "resolved" || (row.dataset.state === "acknowledged" && !resolved)) return "";
      row.classList.remove("open");
      row.classList.add("done");
      row.dataset.state = resolved ? "resolved" : "acknowledged";
      var stale = row.querySelector(".badge.warn");
      if (stale) stale.remove();
      var foot2 = row.querySelector(".alert-foot");
      if (foot2) {
        // The countdown and the acknowledge form go; Resolve stays until the alert is resolved.
        foot2.querySelectorAll(".countdown, form[data-command$='/acknowledge'], [data-testid=alert-status]").forEach(function (n) { n.remove(); });
        if (resolved) foot2.querySelectorAll("details.resolve").forEach(function (n) { n.remove(); });
        var who = event.by ? event.by + (event.team ? " (" + event.team + ")" : "") : (event.team || "");
        var status = el("span", "status", row.dataset.state + (who ? " by " + who : ""));
        status.dataset.testid = "alert-status";
        foot2.insertBefore(status, foot2.firstChild);
      }
      return "updated";
    } else if (/escalated/.test(type) && event.step && row.classList.contains("open")) {
      var repeat = Number(event.repeat || 0);
      var before = Number(row.dataset.step || 0) * 1000 + Number(row.dataset.repeat || 0);
      if (Number(event.step) * 1000 + repeat <= before) return added ? "added" : "";
      row.dataset.step = String(event.step);
      row.dataset.repeat = String(repeat);
      row.dataset.state = "escalated";
      var badge = row.querySelector(".badge.warn") || row.querySelector(".alert-head").appendChild(el("span", "badge warn", ""));
      badge.textContent = "escalated step " + event.step + (repeat ? ", paged again ×" + repeat : "");
      var countdown = row.querySelector(".countdown");
      var next = event.next_escalation_at || event.acknowledge_by;
      if (countdown && next) {
        countdown.dataset.deadline = next;
        if (event.next_escalation_at) {
          countdown.dataset.verb = event.to === "coordinator_desk" ? "pages the coordinator desk of " + event.team + " again" : "escalates further";
          countdown.dataset.late = countdown.dataset.verb + ": due since";
        }
        else { countdown.dataset.verb = "acknowledge"; countdown.dataset.late = "acknowledgement overdue by"; }
      }
      tick();
      return added ? "added" : "updated";
    } else if (/deduplicated/.test(type) && event.count) {
      var dup = row.querySelector(".badge.dup") || row.querySelector(".alert-head").appendChild(el("span", "badge dup", ""));
      if (Number(event.count) > Number(dup.dataset.count || 0)) { dup.dataset.count = String(event.count); dup.textContent = "×" + event.count; }
      return added ? "added" : "updated";
    }
    return added ? "added" : "";
  }

  function settleBanner(desk) {
    // the P1 banner stays while an open P1 alert is on the desk
    var banner = document.getElementById("p1-banner");
    if (banner && !banner.hidden && !desk.querySelector('.alert.open[data-severity="P1"]')) banner.hidden = true;
  }

  function desk_jit(node) {
    var desk = node.closest("[data-desk]");
    return desk ? desk.dataset.jit : document.body.dataset.jit;
  }

  function p1(alert, type) {
    var banner = document.getElementById("p1-banner");
    if (!banner) return;
    banner.hidden = false;
    banner.textContent = "P1 " + String(alert.category || "alert").replace(/_/g, " ") + (type && type.indexOf("escalat") >= 0 ? " (escalated)" : "") + ": " + (alert.summary || "see the list below") + " — acknowledge it.";
    document.body.classList.add("p1-flash");
    setTimeout(function () { document.body.classList.remove("p1-flash"); }, 4000);
    beep();
  }

  function startDesk(desk) {
    var toggle = document.getElementById("sound-toggle");
    if (toggle) {
      toggle.checked = localStorage.getItem("interlock.sound") === "on";
      toggle.addEventListener("change", function () {
        localStorage.setItem("interlock.sound", toggle.checked ? "on" : "off");
        if (toggle.checked) { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); }
      });
    }
    var state = document.getElementById("live-state");
    function setState(text, value) { if (state) { state.textContent = text; state.dataset.state = value; } }
    if (!desk.dataset.stream || !window.EventSource) return;
    // messages kept for a while: a list re-read from the server may have been read before the
    // newest of them were projected, so they are applied again after the swap (idempotent)
    var recent = [];
    var requested = 0;
    function apply(data, type) {
      var list = desk.querySelector("[data-client-alerts]");
      if (!list) return "";
      var result = clientRow(list, data, type);
      if (result === "unknown") document.body.dispatchEvent(new CustomEvent("interlock:desk-stale", { bubbles: true }));
      settleBanner(desk);
      return result;
    }
    desk.addEventListener("htmx:beforeRequest", function (event) {
      if (event.target === desk) requested = Date.now();
    });
    desk.addEventListener("htmx:afterSwap", function (event) {
      if (event.target !== desk) return;
      var since = requested - 2000;
      recent.forEach(function (m) { if (m.at >= since) apply(m.data, m.type); });
      settleBanner(desk);
      tick();
    });
    var source = new EventSource(desk.dataset.stream, { withCredentials: true });
    source.onopen = function () { setState("live", "live"); };
    source.onerror = function () { setState("reconnecting…", "reconnecting"); };
    function onEvent(event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { data = {}; }
      var alert = alertOf(data);
      var type = String((data.event && data.event.type) || event.type || "");
      var jit = desk.dataset.jit;
      if (alert.jit && jit && alert.jit !== jit) return;
      if (/delivered|desk_rule|webhook/.test(type)) return;
      var now = Date.now();
      recent.push({ at: now, data: data, type: type });
      while (recent.length && (recent.length > 500 || recent[0].at < now - 120000)) recent.shift();
      var result = apply(data, type);
      var fresh = result === "added" || (result === "updated" && /escalated/.test(type));
      if (alert.severity === "P1" && /routed|escalated/.test(type) && (fresh || result === "unknown")) p1(alert, type);
      document.body.dispatchEvent(new CustomEvent("interlock:alert", { bubbles: true }));
    }
    source.onmessage = onEvent;
    ["interlock.alert.routed", "interlock.alert.escalated", "interlock.alert.acknowledged",
     "interlock.alert.resolved", "interlock.alert.deduplicated"].forEach(function (name) {
      source.addEventListener(name, onEvent);
    });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  // ------------------------------------------------------------ evidence upload (resumable)
  var UPLOAD_CHUNK = 8 * 1024 * 1024;

  function uploadEvidence(form) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files[0];
    var result = form.querySelector("[data-result]");
    var bar = form.querySelector("[data-progress]");
    var button = form.querySelector("[type=submit]");
    if (!file) return;
    function say(text, kind) {
      if (result) { result.className = "result " + kind; result.textContent = text; }
      announce(text, kind);
    }
    function value(name) { var el = form.elements[name]; return el ? el.value.trim() : ""; }
    var body = {
      filename: file.name, size: file.size, tlp: value("tlp") || "AMBER", handling: value("handling") || "H0",
      releasable_to: value("releasable_to").split(",").map(function (t) { return t.trim(); }).filter(Boolean),
    };
    if (value("description")) body.description = value("description");
    if (value("exhibit_ref")) body.exhibit_ref = value("exhibit_ref");
    if (form.dataset.linkKind && form.dataset.linkId) { body.link_kind = form.dataset.linkKind; body.link_id = form.dataset.linkId; }
    var query = form.dataset.upload.indexOf("?") >= 0 ? form.dataset.upload.slice(form.dataset.upload.indexOf("?")) : "";
    if (button) button.disabled = true;
    if (bar) { bar.hidden = false; bar.value = 0; }
    function refused(response, data) {
      throw new Error((data && data.error) || ("Refused (" + response.status + ")"));
    }
    function send(url, offset) {
      return fetch(url + query, {
        method: "PATCH", credentials: "same-origin",
        headers: Object.assign({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }, CSRF),
        body: file.slice(offset, offset + UPLOAD_CHUNK),
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 201) return data;
          if (!response.ok) refused(response, data);
          var next = Number(response.headers.get("Upload-Offset"));
          if (bar) bar.value = file.size ? Math.floor((100 * next) / file.size) : 100;
          return send(url, next);
        });
      });
    }
    fetch(form.dataset.upload, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, CSRF),
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) refused(response, data);
        return send(data.url, 0);
      });
    }).then(function (registered) {
      if (bar) bar.value = 100;
      say("Uploaded " + file.name + ".", "ok");
      var jit = document.body.dataset.jit;
      if (result && registered.evidence_id) {
        var link = document.createElement("a");
        link.href = "/ui/jits/" + jit + "/evidence/" + registered.evidence_id;
        link.textContent = " Open the evidence";
        result.appendChild(link);
      }
    }).catch(function (err) {
      say(String(err.message || err), "error");
    }).finally(function () {
      if (button) button.disabled = false;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-upload]");
    if (!form) return;
    event.preventDefault();
    uploadEvidence(form);
  });

  // ------------------------------------------------------------ threads: live messages
  // the same mentions as services/web/pages.py (MENTION): @member-id, @desk:TEAM-CODE
  var MENTION = /(^|[^\w@])@(desk:[A-Z]{2}-[A-Z0-9]{2,16}\b|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?)/g;

  function mentionsIn(text) {
    var found = { members: [], desks: [] };
    String(text || "").replace(MENTION, function (all, before, name) {
      if (name.indexOf("desk:") === 0) { if (found.desks.indexOf(name.slice(5)) < 0) found.desks.push(name.slice(5)); }
      else if (found.members.indexOf(name) < 0) found.members.push(name);
      return all;
    });
    return found;
  }

  function markedText(node, text, me) {
    // text nodes and <mark> elements only: the message is never parsed as HTML
    var value = String(text || ""), last = 0;
    value.replace(MENTION, function (all, before, name, offset) {
      var at = offset + before.length;
      node.appendChild(document.createTextNode(value.slice(last, at)));
      var mine = name === me.member || name === "desk:" + me.team;
      node.appendChild(el("mark", mine ? "mention me" : "mention", "@" + name));
      last = at + 1 + name.length;
      return all;
    });
    node.appendChild(document.createTextNode(value.slice(last)));
    return node;
  }

  function when(at) { return String(at || "").slice(0, 16).replace("T", " ") + " UTC"; }

  function actionForm(command, method, success, label, id, field, value, button, danger) {
    var details = el("details");
    details.appendChild(el("summary", "", method === "PATCH" ? "Edit" : "Delete"));
    var form = el("form");
    form.dataset.command = command;
    if (method === "PATCH") form.dataset.method = "PATCH";
    form.dataset.success = success;
    var lab = el("label", "", label);
    lab.htmlFor = id;
    var input = el(field === "text" ? "textarea" : "input");
    input.id = id; input.name = field; input.required = true;
    input.maxLength = field === "text" ? 10000 : 2000;
    if (field === "text") { input.rows = 2; input.value = value || ""; }
    var submit = el("button", danger ? "danger" : "", button);
    submit.type = "submit";
    var result = el("span");
    result.setAttribute("data-result", ""); result.setAttribute("role", "status");
    form.appendChild(lab); form.appendChild(input); form.appendChild(submit); form.appendChild(result);
    details.appendChild(form);
    return details;
  }

  function showMessage(panel, list, m) {
    var me = { member: panel.dataset.member || "", team: panel.dataset.team || "" };
    var item = list.querySelector('[data-message="' + m.message_id + '"]');
    if (!item) {
      item = document.createElement("li");
      item.dataset.message = m.message_id;
      item.id = "message-" + m.message_id;
      list.appendChild(item);
    }
    var named = (m.mentions || []).indexOf(me.member) >= 0 || (m.desks || []).indexOf(me.team) >= 0;
    item.className = "message" + (named ? " mentions-me" : "");
    item.textContent = "";
    item.appendChild(el("span", "banner-tlp", (m.marking && m.marking.banner) || ""));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(el("span", "muted", m.by + " (" + m.team + ") · " + when(m.at) + (m.edited ? " · edited" : "")));
    if (named) { item.appendChild(document.createTextNode(" ")); item.appendChild(el("span", "badge mention-badge", "mentions you")); }
    if (m.deleted) {
      var tomb = el("p", "muted tombstone", "Deleted by " + m.deleted.by + ": " + m.deleted.reason);
      tomb.setAttribute("data-tombstone", "");
      item.appendChild(tomb);
      return;
    }
    item.appendChild(markedText(el("p", "text"), m.text, me));
    var history = m.history || [];
    if (history.length) {
      var details = el("details", "history");
      details.appendChild(el("summary", "", "History: " + history.length + " earlier version" + (history.length > 1 ? "s" : "")));
      var ol = el("ol", "plain");
      history.forEach(function (h) {
        var li = el("li");
        li.appendChild(el("span", "muted", when(h.at)));
        li.appendChild(document.createTextNode(" " + h.text));
        ol.appendChild(li);
      });
      details.appendChild(ol);
      item.appendChild(details);
    }
    if (m.by === me.member && m.team === me.team && m.kind === "message") {
      var base = "/jits/" + encodeURIComponent(document.body.dataset.jit) + "/threads/" + encodeURIComponent(panel.dataset.threadId) + "/messages/" + encodeURIComponent(m.message_id);
      var actions = el("div", "actions message-actions");
      actions.appendChild(actionForm(base, "PATCH", "Message edited", "New text", "edit-" + m.message_id, "text", m.text, "Save the edit", false));
      actions.appendChild(actionForm(base + "/delete", "POST", "Message deleted", "Reason for deleting", "delete-" + m.message_id, "reason", "", "Delete the message", true));
      item.appendChild(actions);
    }
  }

  function startThread(panel) {
    if (!panel.dataset.stream || !window.EventSource) return;
    var list = panel.querySelector("[data-messages]");
    var source = new EventSource(panel.dataset.stream, { withCredentials: true });
    source.addEventListener("message", function (event) {
      var m;
      try { m = JSON.parse(event.data); } catch (e) { return; }
      showMessage(panel, list, m);
      var none = panel.querySelector("[data-no-messages]");
      if (none) none.hidden = true;
    });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-command]").forEach(function (form) {
      form.querySelectorAll("[data-fresh-key]").forEach(function (input) { if (!input.value) freshKeys(form); });
    });
    applyShowWhen(document);
    var desk = document.querySelector("[data-desk]");
    if (desk) startDesk(desk);
    document.querySelectorAll("[data-thread]").forEach(startThread);
    if (document.getElementById("lead-form")) {
      addRow("person-row", true);
      addRow("identifier-row", true);
    }
    tick();
  });
})();

// Operations plot: a click (or Enter on the focused plot, which takes its centre) sets the
// planner's latitude and longitude from the plot's own equirectangular projection.
(function () {
  "use strict";
  function place(svg, x, y) {
    var north = Number(svg.dataset.north), west = Number(svg.dataset.west);
    var scale = Number(svg.dataset.scale), mid = Number(svg.dataset.mid);
    if (!scale || !mid) return;
    var lat = document.getElementById("op-lat"), lon = document.getElementById("op-lon");
    if (!lat || !lon) return;
    lat.value = (north - y / scale).toFixed(5);
    lon.value = (west + x / (mid * scale)).toFixed(5);
    lat.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.addEventListener("click", function (event) {
    var svg = event.target.closest && event.target.closest("svg[data-plot]");
    if (!svg) return;
    var box = svg.getBoundingClientRect();
    place(svg, (event.clientX - box.left) * 600 / box.width, (event.clientY - box.top) * 400 / box.height);
  });
  document.addEventListener("keydown", function (event) {
    var svg = event.target.closest && event.target.closest("svg[data-plot]");
    if (svg && event.key === "Enter") place(svg, 300, 200);
  });
})();
