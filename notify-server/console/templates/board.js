// The facility board's live update (docs/console.md, "Facility board"): an EventSource on
// /board/events tells the board's version about once a second; when it differs from the one
// on the page, the board is fetched again and swapped in. Nothing else runs on the console.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.EventSource) return;
  var query = board.dataset.facility ? "?facility=" + encodeURIComponent(board.dataset.facility) : "";
  var busy = false;
  function refresh() {
    busy = true;
    fetch("/board" + query, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("board");
        // Keep what staff are typing: a form being filled in waits for the next event.
        if (fresh && !board.contains(document.activeElement)) {
          board.innerHTML = fresh.innerHTML;
          board.dataset.version = fresh.dataset.version;
        }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var events = new EventSource("/board/events" + query);
  events.addEventListener("board", function (e) {
    if (!busy && e.data !== board.dataset.version) refresh();
  });
})();
