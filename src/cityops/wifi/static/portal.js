// The captive portal page's script (templates/portal.html): terms, phone code or voucher, then the
// credentials posted to the access point's login page. Settings come in the body's data attributes (the
// page's Content-Security-Policy allows no inline script).
const base = document.body.dataset.base;
const loginUrl = document.body.dataset.loginUrl;
const messages = JSON.parse(document.body.dataset.errors);
const $ = (id) => document.getElementById(id);
const agreed = () => ($('continue').disabled = !$('agree').checked);
$('agree').addEventListener('change', agreed);
agreed();  // a box ticked before this script ran counts too
$('continue').addEventListener('click', () => {
  $('terms').hidden = true;
  $('phone-step').hidden = false;
  $('voucher-step').hidden = false;
});
async function post(path, body, errorBox) {
  errorBox.textContent = '';
  const response = await fetch(base + path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const field = answer.detail?.[0]?.field;
    errorBox.textContent = messages[`${field}:${response.status}`] ?? messages[field] ?? messages.other;
    return null;
  }
  return answer;
}
function connected(credentials) {
  $('phone-step').hidden = true;
  $('voucher-step').hidden = true;
  $('done').hidden = false;
  document.body.dataset.username = credentials.username;
  if (loginUrl) {
    const form = $('nas-login');
    form.username.value = credentials.username;
    form.password.value = credentials.password;
    form.submit();
  }
}
$('send-code').addEventListener('click', async () => {
  if (await post('/code', { phone: $('phone').value }, $('phone-error'))) $('code-step').hidden = false;
});
$('verify').addEventListener('click', async () => {
  const credentials = await post('/verify', { phone: $('phone').value, code: $('code').value }, $('phone-error'));
  if (credentials) connected(credentials);
});
$('use-voucher').addEventListener('click', async () => {
  const credentials = await post('/voucher', { code: $('voucher').value }, $('voucher-error'));
  if (credentials) connected(credentials);
});
document.body.dataset.ready = 'true';
