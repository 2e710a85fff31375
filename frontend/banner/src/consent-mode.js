/** Google Consent Mode v2: the loader sets the defaults before any tag; the banner sends updates. */

const V2_TYPES = ['ad_storage', 'analytics_storage', 'ad_user_data', 'ad_personalization'];

/**
 * The Consent Mode parameters for a set of granted purposes: each type the site maps to
 * purposes is granted when any of them is; the four v2 types are always present (denied
 * when unmapped), and security storage is always granted (it is what keeps the site safe).
 */
export function consentModeValues(config, granted) {
  const mapping = config.consent_mode || {};
  const values = { security_storage: 'granted' };
  for (const type of V2_TYPES.concat(Object.keys(mapping))) {
    values[type] = (mapping[type] || []).some(purpose => granted.includes(purpose)) ? 'granted' : 'denied';
  }
  return values;
}

/** Push `arguments` itself, as the loader's and Google's gtag do: Google's tags expect it. */
function gtag() {
  window.dataLayer.push(arguments);
}

export function consentModeUpdate(config, granted) {
  gtag('consent', 'update', consentModeValues(config, granted));
}
