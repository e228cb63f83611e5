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
