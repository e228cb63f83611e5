/* Live updates for pages that stay open (docs/adr/0023): every 15 seconds while the page is visible, and at once
   when it becomes visible again, ask /inbox/pulse what changed for this agent. The desks' figures on the inbox
   page are updated in place, and what needs the agent now (a customer wrote again on a ticket they hold, a first
   response falls due) is read out in a polite live region. Every page works without this script. */
(function () {
  "use strict";

  var PERIOD = 15000;
  var region = document.getElementById("live-news");
  if (!region || !window.fetch) {
    return;
  }
  var url = region.getAttribute("data-pulse");
  var version = null;
  var timer = null;
  var stopped = false;

  function showNews(news) {
    region.textContent = "";
    news.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      region.appendChild(p);
    });
    region.hidden = news.length === 0;
  }

  function updateDesks(desks) {
    desks.forEach(function (desk) {
      var row = document.querySelector('li.desk[data-desk="' + CSS.escape(desk.desk) + '"]');
      if (!row) {
        return;
      }
      var depth = row.querySelector(".depth");
      if (depth && depth.textContent !== String(desk.depth)) {
        depth.textContent = String(desk.depth);
        depth.classList.add("changed");
      }
      var oldest = row.querySelector(".oldest");
      if (oldest) {
        oldest.textContent = desk.oldest_wait || "\u2014";
      }
    });
  }

  function schedule() {
    if (!stopped) {
      clearTimeout(timer);
      timer = setTimeout(poll, PERIOD);
    }
  }

  function poll() {
    if (document.visibilityState !== "visible") {
      schedule();
      return;
    }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) {
          stopped = true;  // signed out: the next page load asks to sign in
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (pulse) {
        if (pulse && pulse.version !== version) {
          var first = version === null;
          version = pulse.version;
          if (!first) {
            updateDesks(pulse.desks);
          }
          showNews(pulse.news);
        }
        schedule();
      })
      .catch(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !stopped) {
      clearTimeout(timer);
      poll();
    }
  });
  poll();
}());
