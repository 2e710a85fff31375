/** Interface strings with a value in them. Pure. */

/** A cookie's lifetime in the banner's language: "1 day", "3 дня", or the session text. */
export const cookieDuration = (texts, lang, days) =>
  days == null ? texts.session : (texts['days_' + new Intl.PluralRules(lang).select(days)] || texts.days_other).replace('{n}', days);

/** The placeholder text of a blocked embed, naming the purposes it waits for. */
export const placeholderText = (texts, config, purposes) =>
  texts.placeholder.replace('{purpose}', config.purposes.filter(purpose => purposes.includes(purpose.key)).map(purpose => purpose.name).join(', '));
