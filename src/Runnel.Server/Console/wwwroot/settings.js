// The credentials the console signs its requests with, kept in this browser's localStorage.
import { h, field } from './dom.js';
import { settings, saveSettings, region } from './api.js';

export function settingsPage(main) {
  const current = settings();
  const accessKey = h('input', { name: 'accessKey', value: current.accessKey, autocomplete: 'off', required: true });
  const secretKey = h('input', { name: 'secretKey', type: 'password', value: current.secretKey, autocomplete: 'off', required: true });
  const regionInput = h('input', { name: 'region', value: current.region, placeholder: region() });
  const saved = h('p', { role: 'status' });
  const form = h('form', { class: 'panel' },
    field('Access key id', accessKey),
    field('Secret access key', secretKey),
    field('Region', regionInput, `Empty: the region of the server's ARNs (now ${region()}).`),
    h('button', { type: 'submit' }, 'Save'), saved);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    saveSettings({ accessKey: accessKey.value.trim(), secretKey: secretKey.value, region: regionInput.value.trim() });
    saved.textContent = 'Saved. Requests are signed with these from now on.';
  });
  main.append(h('h1', {}, 'Settings'),
    h('p', {}, 'The console calls Runnel\'s Kinesis, Firehose and CloudWatch APIs like any SDK, signed with SigV4 with these credentials. ',
      'They stay in this browser (localStorage). A server started with --auth sigv4 takes only the key pairs of its credentials file; otherwise any pair works.'),
    form);
}
