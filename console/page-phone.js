// Phone lookup: how the server reads a number (GET /v1/phone-numbers/:number, Google's
// numbering-plan metadata): valid or not and why, its region, type and formats. An invalid
// number is an answer, shown with its reason; only a malformed request is an error.
import { api, ApiError, withQuery } from './api.js';
import { h, replace, field, input, form, pageHeader, details, uniqueId, alertBox } from './ui.js';
import { routeQuery, setRouteQuery } from './data.js';

const REASONS = {
  NOT_A_NUMBER: 'This is not a phone number.',
  INVALID_COUNTRY_CODE: 'No known country calling code: start the number with + and its country code, or give its Region.',
  TOO_SHORT: 'Too short for a number of its country.',
  TOO_LONG: 'Too long for a number of its country.',
  INVALID_LENGTH: 'No number of its country has this length (or it can only be dialled locally).',
  INVALID_FOR_REGION: 'A possible length, but not a number of its region\'s numbering plan.',
};

const yesNo = (value) => (value === true ? 'yes' : value === false ? 'no' : null);

export default async function phoneLookup({ container }) {
  const query = routeQuery();
  const number = input('number', { type: 'tel', autocomplete: 'off', spellcheck: 'false', value: query.get('number') || '', placeholder: '+44 7911 123456' });
  const region = input('region', { maxlength: 2, size: 4, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', value: query.get('region') || '' });
  const found = h('div', { 'aria-live': 'polite' });
  const lookup = form({
    fields: [h('div', { class: 'lookup-fields' },
      field('Phone number', number, 'With + and the country code, or as dialled in the region.'),
      field('Region', region, 'Optional. Two letters (GB, US): how a number without + is read.'))],
    submitLabel: 'Look up',
    action: async () => {
      replace(found);
      await show(number.value.trim(), region.value.trim().toUpperCase());
    },
  });
  lookup.classList.add('lookup');
  replace(container, pageHeader('Phone lookup'),
    h('p', { class: 'lede' }, 'How this server reads a phone number: whether sends to it are accepted, its region, type and formats.'),
    lookup, found);

  async function show(phone, regionCode) {
    if (!phone) {
      throw new ApiError(400, { error: { code: 'INVALID_ARGUMENT', message: 'Enter a phone number.', details: { fields: { number: 'is needed' } } } });
    }
    const answer = (await api.get(withQuery(`/v1/phone-numbers/${encodeURIComponent(phone)}`, { region: regionCode }))).data;
    setRouteQuery('#/phone-lookup', { number: phone, region: regionCode });
    replace(found, result(answer, phone));
  }

  // A reload (or a link) with ?number= shows that number's answer at once.
  if (number.value.trim()) {
    try {
      await show(number.value.trim(), region.value.trim().toUpperCase());
    } catch (error) {
      replace(found, alertBox(error));
    }
  }
}

function result(answer, asked) {
  const titleId = uniqueId('lookup-title');
  const reason = answer.reason
    ? [h('code', {}, answer.reason), REASONS[answer.reason] ? ` — ${REASONS[answer.reason]}` : '']
    : null;
  return h('section', { class: 'panel', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, answer.phone || answer.internationalFormat || asked),
    answer.valid
      ? h('p', { class: 'verdict ok' }, `Valid: a ${answer.numberType} number${answer.region ? ` of ${answer.region}` : ''}.`)
      : h('p', { class: 'verdict bad' }, 'Not a valid number.', REASONS[answer.reason] ? ` ${REASONS[answer.reason]}` : ''),
    details([
      ['Valid', yesNo(answer.valid)],
      ['Possible', yesNo(answer.possible)],
      ['Reason', reason],
      ['E.164', answer.e164 ? h('code', {}, answer.e164) : null],
      ['Region', answer.region],
      ['Country calling code', answer.countryCallingCode === null || answer.countryCallingCode === undefined ? null : `+${answer.countryCallingCode}`],
      ['Number type', answer.numberType],
      ['National format', answer.nationalFormat],
      ['International format', answer.internationalFormat],
      ['Metadata version', answer.metadataVersion],
    ]));
}
