// The Excel import page (catalog/import.html): while the import runs on the worker, show its progress and
// reload the page when it is done. A static file, not an inline script, so the Content-Security-Policy holds.
(function () {
  var box = document.getElementById("import-status");
  if (!box || ["QUEUED", "RUNNING"].indexOf(box.dataset.status) < 0) return;
  var timer = setInterval(function () {
    fetch(box.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
      var bar = document.getElementById("import-progress");
      if (bar) { bar.max = p.total || 1; bar.value = p.done; }
      var text = document.getElementById("progress-text");
      if (text) text.textContent = box.dataset.progressTemplate.replace("{done}", p.done).replace("{total}", p.total);
      document.getElementById("status-label").textContent = p.status_label;
      if (p.status === "DONE" || p.status === "FAILED") { clearInterval(timer); window.location.reload(); }
    });
  }, 1500);
})();
