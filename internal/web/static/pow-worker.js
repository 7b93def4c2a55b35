// Solves an ALTCHA challenge (SPEC §15) off the page's thread: finds the number n, 0 ≤ n ≤
// maxnumber, whose SHA-256 of salt + n is the challenge. Digests run in batches so that
// the browser can work on several at once. Answers {number: n}, or {number: null}.
'use strict';

function hex(buf) {
  var b = new Uint8Array(buf);
  var s = '';
  for (var i = 0; i < b.length; i++) {
    s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  }
  return s;
}

self.onmessage = function (e) {
  var c = e.data;
  var enc = new TextEncoder();
  var batch = 256;
  if (!self.crypto || !self.crypto.subtle || c.algorithm !== 'SHA-256') {
    self.postMessage({ number: null });
    return;
  }
  function from(start) {
    if (start > c.maxnumber) {
      self.postMessage({ number: null });
      return;
    }
    var jobs = [];
    for (var n = start; n <= c.maxnumber && n < start + batch; n++) {
      jobs.push(self.crypto.subtle.digest('SHA-256', enc.encode(c.salt + n)));
    }
    Promise.all(jobs).then(function (sums) {
      for (var i = 0; i < sums.length; i++) {
        if (hex(sums[i]) === c.challenge) {
          self.postMessage({ number: start + i });
          return;
        }
      }
      from(start + batch);
    }, function () { self.postMessage({ number: null }); });
  }
  from(0);
};
