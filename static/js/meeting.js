/* Meeting pages: progressive enhancement over plain form POSTs.
 *
 * 1. Agenda notes autosave (forms with data-autosave): typing saves after a pause with
 *    fetch + the CSRF token; the status line says "Saved" or "Not saved – retrying" and
 *    retries with backoff. Until the server confirms, the text is kept in localStorage, so a
 *    closed tab or a lost connection loses nothing. A 409 conflict shows the server's text
 *    and keeps yours in the field to merge.
 *    A text over its limit is not sent (the server would refuse it); the status says so.
 *    Anything the server refuses as invalid (4xx) is not retried until the text changes.
 * 2. Forms with data-once disable their submit buttons on submit (no double submit).
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 1500;
  var MAX_BACKOFF_MS = 60000;

  function store(key, value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); }
      else { window.localStorage.setItem(key, JSON.stringify(value)); }
    } catch (e) { /* storage full or disabled: the retry loop still runs */ }
  }

  function load(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); }
    catch (e) { return null; }
  }

  function timeNow() {
    var d = new Date();
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function Autosave(form) {
    this.form = form;
    this.textarea = form.querySelector("textarea");
    this.revision = form.querySelector("input[name$='base_revision']");
    this.status = form.querySelector(".vom-save-status");
    this.conflictBox = form.querySelector(".vom-conflict");
    this.conflictText = form.querySelector(".vom-conflict-text");
    this.key = form.dataset.storageKey;
    this.timer = null;
    this.backoff = 2000;
    this.inFlight = false;
    this.dirty = false;
    this.lastSaved = this.textarea.value;
    this.blocked = !!(this.conflictBox && !this.conflictBox.classList.contains("d-none"));
    this.bind();
    this.restore();
  }

  Autosave.prototype.say = function (text, state) {
    this.status.textContent = text;
    this.status.classList.remove("is-saved", "is-pending", "is-failed");
    if (state) { this.status.classList.add(state); }
  };

  Autosave.prototype.bind = function () {
    var self = this;
    this.textarea.addEventListener("input", function () {
      self.dirty = true;
      self.blocked = false;
      store(self.key, { text: self.textarea.value, base: self.revision.value });
      self.say(self.form.dataset.msgUnsaved, "is-pending");
      self.schedule(DEBOUNCE_MS);
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.blocked = false;
      self.dirty = true;
      self.schedule(0);
    });
    window.addEventListener("beforeunload", function (event) {
      if (self.dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    window.addEventListener("online", function () { if (self.dirty) { self.schedule(0); } });
  };

  Autosave.prototype.restore = function () {
    var saved = load(this.key);
    if (saved && typeof saved.text === "string" && saved.text !== this.textarea.value) {
      // Text typed on this device that the server never confirmed: put it back and save it.
      this.textarea.value = saved.text;
      if (saved.base !== undefined && saved.base !== null) { this.revision.value = saved.base; }
      this.dirty = true;
      this.say(this.form.dataset.msgRestored, "is-pending");
      this.schedule(500);
    } else if (saved) {
      store(this.key, null);
    }
  };

  Autosave.prototype.schedule = function (delay) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.save(); }, delay);
  };

  Autosave.prototype.retry = function () {
    this.say(this.form.dataset.msgFailed, "is-failed");
    this.schedule(this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  };

  Autosave.prototype.save = function () {
    var self = this;
    if (!this.dirty || this.blocked) { return; }
    if (this.textarea.value.length > parseInt(this.textarea.dataset.limit || "0", 10) &&
        this.textarea.dataset.limit) {
      // The server would refuse it: say so and keep it on this device, without sending.
      this.say(this.form.dataset.msgTooLong, "is-failed");
      return;
    }
    if (this.inFlight) { this.schedule(500); return; }
    var sent = this.textarea.value;
    var body = new FormData(this.form);
    var token = this.form.querySelector("input[name='csrfmiddlewaretoken']").value;
    this.inFlight = true;
    this.say(this.form.dataset.msgSaving, "is-pending");
    window.fetch(this.form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (result) {
      self.inFlight = false;
      var data = result.data || {};
      if (result.status === 200 && data.ok) {
        self.backoff = 2000;
        self.revision.value = data.revision;
        self.lastSaved = sent;
        if (self.textarea.value === sent) {
          self.dirty = false;
          store(self.key, null);
          self.say(self.form.dataset.msgSaved + " " + timeNow(), "is-saved");
        } else {
          store(self.key, { text: self.textarea.value, base: self.revision.value });
          self.schedule(DEBOUNCE_MS);
        }
        if (self.conflictBox) { self.conflictBox.classList.add("d-none"); }
      } else if (result.status === 409 && data.conflict) {
        // Keep the user's text; show the other text; the next save is based on it.
        self.backoff = 2000;
        self.blocked = true;
        self.revision.value = data.revision;
        store(self.key, { text: self.textarea.value, base: self.revision.value });
        if (self.conflictBox) {
          self.conflictText.textContent = data.text;
          self.conflictBox.classList.remove("d-none");
        }
        self.say(self.form.dataset.msgConflict, "is-failed");
      } else if (result.status === 403 || result.status === 400 || result.status === 404) {
        // Refused for good (e.g. the meeting was closed): keep the text on this device.
        self.blocked = true;
        self.say(self.form.dataset.msgRefused + (data.message ? ": " + data.message : ""), "is-failed");
      } else {
        self.retry();
      }
    }).catch(function () {
      self.inFlight = false;
      self.retry();
    });
  };

  function once(form) {
    form.addEventListener("submit", function () {
      if (form.dataset.submitted) { return; }
      form.dataset.submitted = "1";
      window.setTimeout(function () {
        form.querySelectorAll("button[type='submit']").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.fetch && window.FormData) {
      document.querySelectorAll("form[data-autosave]").forEach(function (form) { new Autosave(form); });
    }
    document.querySelectorAll("form[data-once]").forEach(once);
  });
})();
