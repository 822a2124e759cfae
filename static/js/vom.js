/* Every page: progressive enhancement only; the pages work without it.
 *
 * 1. After a form is sent back with errors, focus moves to the error summary; after a
 *    redirect with a message, to the message (instead of staying on <body>).
 * 2. A text with a limit (data-limit) shows its length against the limit as you type, and
 *    says so when it is too long, before the server refuses it.
 * 3. Parts of a form shown only for one answer (data-show-when="name=value") are hidden
 *    until that answer is chosen.
 * 4. A form marked data-autosubmit (the SAML answer posted once more from our own page) is
 *    sent at once; without JavaScript its button does the same.
 */
(function () {
  "use strict";

  function focusFirst() {
    var target = document.querySelector(".vom-error-summary") ||
      document.querySelector("main .vom-flash");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus({ preventScroll: false });
  }

  function groupDigits(n) {
    var lang = document.documentElement.lang || "sv";
    try { return n.toLocaleString(lang === "sv" ? "sv-SE" : "en-GB"); }
    catch (e) { return String(n); }
  }

  function Limit(field) {
    this.field = field;
    this.limit = parseInt(field.dataset.limit, 10);
    this.out = document.createElement("div");
    this.out.className = "form-text vom-limit";
    this.out.id = (field.id || field.name) + "-limit";
    this.out.setAttribute("aria-live", "polite");
    // After the field's own help text, if it has one (the limit is said there).
    var next = field.nextElementSibling;
    var anchor = next && next.classList.contains("form-text") ? next : field;
    anchor.insertAdjacentElement("afterend", this.out);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + this.out.id);
    var self = this;
    field.addEventListener("input", function () { self.update(); });
    this.update();
  }

  Limit.prototype.update = function () {
    var length = this.field.value.length;
    var over = length > this.limit;
    var template = over ? (document.body.dataset.msgTooLong || "%(n)s / %(limit)s")
      : (document.body.dataset.msgLength || "%(n)s / %(limit)s");
    this.out.textContent = template.replace("%(n)s", groupDigits(length))
      .replace("%(limit)s", groupDigits(this.limit));
    this.out.classList.toggle("is-over", over);
    this.field.classList.toggle("is-invalid", over);
    this.field.dataset.overLimit = over ? "1" : "";
  };

  function showWhen(part) {
    var spec = part.dataset.showWhen.split("=");
    var form = part.closest("form");
    if (!form) { return; }
    var inputs = form.querySelectorAll("input[name='" + spec[0] + "']");
    function update() {
      var chosen = form.querySelector("input[name='" + spec[0] + "']:checked");
      part.hidden = !(chosen && chosen.value === spec[1]);
    }
    inputs.forEach(function (input) { input.addEventListener("change", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-limit]").forEach(function (field) { new Limit(field); });
    document.querySelectorAll("[data-show-when]").forEach(showWhen);
    var auto = document.querySelector("form[data-autosubmit]");
    if (auto) { auto.submit(); return; }
    focusFirst();
  });
})();
