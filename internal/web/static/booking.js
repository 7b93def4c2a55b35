// The booking form's proof of work (SPEC §15): fetch a challenge, solve it in a Web
// Worker (pow-worker.js), and put the solution in the hidden altcha field. Without
// JavaScript, or when anything here fails, the form posts all the same and the booking is
// held for review: nothing here may stop a person from booking.
(function () {
  'use strict';
  var field = document.getElementById('altcha');
  if (!field || !field.form || !window.Worker || !window.fetch || !window.Promise) {
    return;
  }
  var form = field.form;
  var finished = false;
  var waiting = false;
  var solved = new Promise(function (resolve) {
    fetch(field.getAttribute('data-challenge'), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) { throw new Error('challenge: ' + r.status); }
        return r.json();
      })
      .then(function (c) {
        var worker = new Worker(field.getAttribute('data-worker'));
        worker.onmessage = function (e) {
          worker.terminate();
          if (e.data && typeof e.data.number === 'number') {
            field.value = btoa(JSON.stringify({
              algorithm: c.algorithm, challenge: c.challenge, number: e.data.number,
              salt: c.salt, signature: c.signature
            }));
          }
          resolve();
        };
        worker.onerror = function () { resolve(); };
        worker.postMessage(c);
      })
      .catch(function () { resolve(); });
  });
  solved.then(function () {
    finished = true;
    // for tests and styling: whether the puzzle was solved
    form.setAttribute('data-pow', field.value ? 'solved' : 'failed');
  });
  // a person quicker than the worker: wait for it, then send (the browser has already
  // checked the fields when the submit event fires)
  form.addEventListener('submit', function (e) {
    if (finished) { return; }
    e.preventDefault();
    if (waiting) { return; }
    waiting = true;
    solved.then(function () { form.submit(); });
  });
}());
