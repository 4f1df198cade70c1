// The second-factor enrolment page (registration/mfa_enrol.html): once a security key is registered, go on to
// the page the form names. A static file, not an inline script, so the Content-Security-Policy holds.
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.href = document.getElementById("webauthn-enrol").dataset.doneUrl;
});
