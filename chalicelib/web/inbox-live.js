/* Live updates for pages that stay open (docs/adr/0023): every 15 seconds while the page is visible, and at once
   when it becomes visible again, ask /inbox/pulse what changed for this agent. The desks' figures on the inbox
   page are updated in place, and what needs the agent now (a customer wrote again on a ticket they hold, a first
   response falls due, an urgent ticket waits on one of the agent's desks) is read out in a polite live region.
   An agent who allows it ("Notify me of urgent tickets") also gets a browser notification when an urgent ticket
   comes to the head of one of their desks' queues while the page is open. Every page works without this script. */
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
  var announced = {};  // urgent tickets already notified of (or on the page when it loaded)
  var inbox = url.replace(/\/pulse$/, "");

  function offerNotifications() {
    if (!("Notification" in window) || Notification.permission !== "default") {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.id = "notify-urgent";
    button.textContent = "Notify me of urgent tickets";
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () {
        button.remove();
      });
    });
    region.parentNode.insertBefore(button, region);
  }

  function notifyUrgent(desks, quiet) {
    desks.forEach(function (desk) {
      (desk.urgent || []).forEach(function (reference) {
        if (announced[reference]) {
          return;
        }
        announced[reference] = true;
        if (quiet || !("Notification" in window) || Notification.permission !== "granted") {
          return;
        }
        var notice = new Notification("Urgent ticket on " + desk.desk, {
          body: reference + " is waiting. Open it in the inbox.", tag: reference});
        notice.onclick = function () {
          window.focus();
          window.location.href = inbox + "/tickets/" + encodeURIComponent(reference);
        };
      });
    });
  }

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
    var notifying = "Notification" in window && Notification.permission === "granted";
    if (document.visibilityState !== "visible" && !notifying) {  // a hidden page asks only to notify
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
          notifyUrgent(pulse.desks, first);
          showNews(pulse.news);
        }
        schedule();
      })
      .catch(schedule);
  }

  offerNotifications();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !stopped) {
      clearTimeout(timer);
      poll();
    }
  });
  poll();
}());
