// Fill the check-in form from the browser's position; fall back to typing it in.
(function () {
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var status = document.getElementById("geo-status");
  var btn = document.getElementById("geo-locate");
  function manual(msg) {
    form.querySelector("[name=manual]").value = "True";
    status.textContent = msg || status.dataset.manual;
  }
  function locate() {
    if (!navigator.geolocation) { manual(); return; }
    status.textContent = status.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=lon]").value = pos.coords.longitude.toFixed(6);
      form.querySelector("[name=accuracy]").value = Math.round(pos.coords.accuracy);
      form.querySelector("[name=manual]").value = "";
      // the Geolocation API always reports WGS-84
      form.querySelector("[name=coord_system]").value = "wgs84";
      status.textContent = status.dataset.found;
    }, function () { manual(); }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  }
  btn.addEventListener("click", locate);
  ["lat", "lon"].forEach(function (n) {
    form.querySelector("[name=" + n + "]").addEventListener("input", function () { manual(status.dataset.typed); });
  });
  // a refused form (400) names the field and the reason: show it instead of dropping the answer
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.status === 400) { evt.detail.shouldSwap = true; evt.detail.isError = false; }
  });
  locate();
})();
