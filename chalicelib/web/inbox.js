/* The web inbox's only script, a progressive enhancement: a live character counter under the reply box. Every
   page works without it, and the server's count is the one that decides. It counts as chalicelib/domain/textlength.py
   does: a public X post counts each link as 23 characters and each character outside X's light code point ranges
   (CJK, emoji...) as 2; every other reply counts characters. Keep the two in step. */
(function () {
  "use strict";

  var X_URL_LENGTH = 23;
  var LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];  // _X_LIGHT_RANGES
  // _URL, with Python's Unicode \b written as "not after a letter, digit or underscore"
  var URL = /(?<![\p{L}\p{N}_])(?:https?:\/\/|www\.)[^\s<>"]+|(?<![\p{L}\p{N}_])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|uk|app|dev|info|me|ly|gov|edu)(?:\/[^\s<>"]*)?/giu;

  function weigh(text) {
    var n = 0;
    for (var ch of text) {  // code points, as Python walks a str
      var cp = ch.codePointAt(0);
      var light = LIGHT.some(function (r) { return cp >= r[0] && cp <= r[1]; });
      n += light ? 1 : 2;
    }
    return n;
  }

  function xLength(text) {
    var length = 0, last = 0, match;
    URL.lastIndex = 0;
    while ((match = URL.exec(text)) !== null) {
      length += weigh(text.slice(last, match.index)) + X_URL_LENGTH;
      last = match.index + match[0].length;
    }
    return length + weigh(text.slice(last));
  }

  function plainLength(text) {
    return Array.from(text).length;
  }

  function setup(box) {
    var out = document.getElementById("reply-count");
    var rule = document.getElementById("reply-rule");
    var privately = document.getElementById("reply-private");
    if (!out) {
      return;
    }
    var publicRule = rule ? rule.textContent : "";

    function update() {
      var isPrivate = Boolean(privately && privately.checked && box.dataset.privateLimit);
      var limit = Number(isPrivate ? box.dataset.privateLimit : box.dataset.limit);
      var countX = !isPrivate && box.dataset.countX === "1";
      var text = box.value.trim();  // the reply is sent trimmed
      var used = countX ? xLength(text) : plainLength(text);
      var left = limit - used;
      out.textContent = used + " of " + limit + " characters" + (countX ? " as X counts them" : "") +
        (left >= 0 ? ": " + left + " left" : ": " + (-left) + " over the limit");
      out.classList.toggle("over", left < 0);
      box.setAttribute("aria-invalid", left < 0 ? "true" : "false");
      if (rule) {
        rule.textContent = isPrivate ? "Up to " + limit + " characters (private message)." : publicRule;
      }
    }

    out.hidden = false;
    box.addEventListener("input", update);
    if (privately) {
      privately.addEventListener("change", update);
    }
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-limit]"), setup);
}());

/* Saved replies: choosing one in the "Saved replies" list beside the reply box puts its text, rendered for this
   ticket by the server, in the reply box for editing (without this script the link reloads the page with the box
   filled: ?saved=<id>). The box then fires "input", so the live counter above counts the new text. */
(function () {
  "use strict";

  function insert(event) {
    var link = event.currentTarget;
    var box = document.getElementById("reply-text");
    if (!box) {
      return;
    }
    event.preventDefault();
    box.value = link.dataset.savedText || "";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    var list = document.getElementById("saved-replies");
    if (list) {
      list.open = false;
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("a.saved-reply[data-saved-text]"), function (link) {
    link.addEventListener("click", insert);
  });
}());

/* Keyboard shortcuts, a progressive enhancement (every page works without them): n take the next ticket, r the reply
   box, e resolve (send and resolve when the reply box has text), / the search box, ? this list. None fires while
   typing in a field, except Ctrl/Cmd+Enter, which sends the form being typed in. The list is a modal dialog with a
   heading; Esc closes it. */
(function () {
  "use strict";

  var SHORTCUTS = [
    ["n", "Take the next ticket"],
    ["r", "Write a reply (focus the reply box)"],
    ["e", "Resolve the ticket (send and resolve when the reply box has text)"],
    ["/", "Search"],
    ["?", "Show these shortcuts"],
    ["Ctrl/\u2318+Enter", "Send the form you are typing in"],
    ["Esc", "Close this list"]
  ];
  var dialog = null;

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && !/^(button|submit|checkbox|radio|reset)$/i.test(target.type));
  }

  function submit(form, button) {
    if (!form) {
      return false;
    }
    if (form.requestSubmit) {
      form.requestSubmit(button || undefined);
    } else if (button) {
      button.click();
    } else {
      form.submit();
    }
    return true;
  }

  function helpDialog() {
    if (dialog) {
      return dialog;
    }
    dialog = document.createElement("dialog");
    dialog.id = "shortcuts";
    dialog.className = "shortcuts";
    dialog.setAttribute("aria-labelledby", "shortcuts-heading");
    var heading = document.createElement("h2");
    heading.id = "shortcuts-heading";
    heading.textContent = "Keyboard shortcuts";
    dialog.appendChild(heading);
    var list = document.createElement("dl");
    SHORTCUTS.forEach(function (item) {
      var row = document.createElement("div");
      var key = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = item[0];
      key.appendChild(kbd);
      var what = document.createElement("dd");
      what.textContent = item[1];
      row.appendChild(key);
      row.appendChild(what);
      list.appendChild(row);
    });
    dialog.appendChild(list);
    var note = document.createElement("p");
    note.className = "hint";
    note.textContent = "Shortcuts do nothing while you type in a field, except Ctrl/\u2318+Enter.";
    dialog.appendChild(note);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.appendChild(close);
    document.body.appendChild(dialog);
    return dialog;
  }

  function showHelp() {
    var d = helpDialog();
    if (!d.open) {
      d.showModal();
    }
    d.querySelector("button").focus();
  }

  function onKey(event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && typing(event.target)) {
      if (submit(event.target.form)) {
        event.preventDefault();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || (dialog && dialog.open)) {
      return;
    }
    var box = document.getElementById("reply-text");
    var done = false;
    switch (event.key) {
      case "n":
        done = submit(document.getElementById("take-next-form"));
        break;
      case "r":
        if (box) {
          box.focus();
          done = true;
        }
        break;
      case "e":
        if (box && box.value.trim() && document.getElementById("send-resolve")) {
          done = submit(box.form, document.getElementById("send-resolve"));
        } else {
          done = submit(document.getElementById("resolve-form"));
        }
        break;
      case "/":
        var search = document.getElementById("search-q");
        if (search) {
          search.focus();
          search.select();
          done = true;
        }
        break;
      case "?":
        showHelp();
        done = true;
        break;
    }
    if (done) {
      event.preventDefault();
    }
  }

  document.addEventListener("keydown", onKey);
  var opener = document.getElementById("shortcuts-open");
  if (opener && typeof HTMLDialogElement === "function") {
    opener.hidden = false;
    opener.addEventListener("click", showHelp);
  }
}());
