// Strings of the polder web components, in English and Dutch.
// Every key exists in both languages; `t()` falls back to English only if
// a key is missing (a test checks that none is).

export const STRINGS = {
  en: {
    loading: 'Loading…',
    checking: 'Checking your browser… this takes a few seconds.',
    checkingProgress: 'Checking your browser… {n} tries so far.',
    joining: 'Joining the conversation…',
    joined: 'You have joined. Here is the first statement.',
    start: 'Start voting',
    startHint: 'You vote anonymously. polder keeps a participant token in this browser (no cookies) so you can come back later.',
    statement: 'Statement',
    statementOf: 'Statement {n} of {total}',
    progressLabel: 'Your progress',
    progressText: '{voted} of {total} statements voted',
    agree: 'Agree',
    disagree: 'Disagree',
    pass: 'Pass / unsure',
    voteGroup: 'Your vote',
    voted: 'Vote recorded: {vote}.',
    votedNext: 'Vote recorded: {vote}. Next statement.',
    done: 'You have voted on every statement. Thank you!',
    doneHint: 'New statements may appear later; come back to vote on them.',
    langTag: 'Language: {lang}',
    writeTitle: 'Write a statement',
    writeHint: 'A short, clear statement others can agree or disagree with. A moderator may check it before it is shown.',
    writeLabel: 'Your statement',
    writeSubmit: 'Send statement',
    writeSent: 'Thank you. Your statement was sent.',
    writeEmpty: 'Write a statement first.',
    writeTooLong: 'The statement is longer than {n} characters.',
    charsLeft: '{n} characters left',
    closed: 'This conversation is closed.',
    error: 'Something went wrong: {detail}',
    retry: 'Try again',
    offline: 'The server cannot be reached. Your vote was not sent; try again.',
    rateLimited: 'Too many requests; wait a moment and try again.',
    notFound: 'This conversation does not exist.',
    inviteOnly: 'This conversation is by invitation only.',
    mapTitle: 'Opinion map',
    mapDesc: 'Each region is an opinion group; each dot stands for a few participants who voted alike. Nearby dots voted alike.',
    mapSummary: '{groups} groups, {people} participants on the map.',
    mapSummaryNone: 'No groups yet: the map appears once enough people have voted.',
    mapUpdated: 'Map updated: {groups} groups, {people} participants.',
    mapSnapshot: 'Map of {when}: group positions only.',
    youAreHere: 'You are here',
    you: 'You',
    youInGroup: 'You are in group {group}.',
    youNotYet: 'Vote on a few more statements to appear on the map.',
    showTable: 'Show the map as a table',
    hideTable: 'Hide the table',
    tableCaption: 'Opinion groups on the map',
    colGroup: 'Group',
    colPeople: 'Participants',
    colShare: 'Share',
    colCentre: 'Centre (x, y)',
    colYou: 'You',
    yes: 'yes',
    no: 'no',
    group: 'Group {name}',
    groupSize: '{n} participants ({pct})',
    groupsNone: 'No opinion groups yet.',
    groupsUpdated: 'Groups updated.',
    groupCaption: 'Statements that characterise group {name}',
    colStatement: 'Statement',
    colInGroup: 'Agree in group {name}',
    colOthers: 'Agree outside group {name}',
    colInGroupShort: 'In {name}',
    colOthersShort: 'Others',
    standsOut: 'stands out by {how}',
    byAgreeing: 'agreeing',
    byDisagreeing: 'disagreeing',
    consensusAgree: 'Most people in every group agree',
    consensusDisagree: 'Most people in every group disagree',
    consensusNone: 'No shared opinions yet.',
    consensusCaption: 'Agreement per group',
    colAll: 'Everyone',
    consensusUpdated: 'Shared opinions updated.',
    percentAgree: '{pct} agree',
    timelineLabel: 'Moment of the report',
    timelineLive: 'Live (now)',
    timelineAt: '{when} · {votes} votes',
    timelineNone: 'No stored moments yet; showing the live report.',
    timelineLiveButton: 'Show live',
    printButton: 'Print the report',
    snapshotShown: 'Showing the report of {when}.',
    liveShown: 'Showing the live report.',
    unknownStatement: 'Statement {id}',
    reportPending: 'The first report is being computed…',
  },
  nl: {
    loading: 'Laden…',
    checking: 'Uw browser wordt gecontroleerd… dit duurt een paar seconden.',
    checkingProgress: 'Uw browser wordt gecontroleerd… al {n} pogingen.',
    joining: 'U wordt aangemeld bij het gesprek…',
    joined: 'U doet mee. Hier is de eerste stelling.',
    start: 'Begin met stemmen',
    startHint: 'U stemt anoniem. polder bewaart een deelnemerssleutel in deze browser (geen cookies), zodat u later verder kunt.',
    statement: 'Stelling',
    statementOf: 'Stelling {n} van {total}',
    progressLabel: 'Uw voortgang',
    progressText: '{voted} van {total} stellingen gestemd',
    agree: 'Eens',
    disagree: 'Oneens',
    pass: 'Overslaan / weet niet',
    voteGroup: 'Uw stem',
    voted: 'Stem opgeslagen: {vote}.',
    votedNext: 'Stem opgeslagen: {vote}. Volgende stelling.',
    done: 'U hebt op alle stellingen gestemd. Dank u wel!',
    doneHint: 'Er kunnen later nieuwe stellingen bijkomen; kom terug om daarop te stemmen.',
    langTag: 'Taal: {lang}',
    writeTitle: 'Schrijf een stelling',
    writeHint: 'Een korte, duidelijke stelling waar anderen het mee eens of oneens kunnen zijn. Een moderator kan hem eerst bekijken.',
    writeLabel: 'Uw stelling',
    writeSubmit: 'Stelling versturen',
    writeSent: 'Dank u. Uw stelling is verstuurd.',
    writeEmpty: 'Schrijf eerst een stelling.',
    writeTooLong: 'De stelling is langer dan {n} tekens.',
    charsLeft: 'Nog {n} tekens',
    closed: 'Dit gesprek is gesloten.',
    error: 'Er ging iets mis: {detail}',
    retry: 'Opnieuw proberen',
    offline: 'De server is niet bereikbaar. Uw stem is niet verstuurd; probeer het opnieuw.',
    rateLimited: 'Te veel verzoeken; wacht even en probeer het opnieuw.',
    notFound: 'Dit gesprek bestaat niet.',
    inviteOnly: 'Dit gesprek is alleen op uitnodiging.',
    mapTitle: 'Opiniekaart',
    mapDesc: 'Elk gebied is een opiniegroep; elke stip staat voor een paar deelnemers die hetzelfde stemden. Stippen dicht bij elkaar stemden hetzelfde.',
    mapSummary: '{groups} groepen, {people} deelnemers op de kaart.',
    mapSummaryNone: 'Nog geen groepen: de kaart verschijnt zodra genoeg mensen hebben gestemd.',
    mapUpdated: 'Kaart bijgewerkt: {groups} groepen, {people} deelnemers.',
    mapSnapshot: 'Kaart van {when}: alleen de posities van de groepen.',
    youAreHere: 'U bent hier',
    you: 'U',
    youInGroup: 'U zit in groep {group}.',
    youNotYet: 'Stem op nog een paar stellingen om op de kaart te verschijnen.',
    showTable: 'Toon de kaart als tabel',
    hideTable: 'Verberg de tabel',
    tableCaption: 'Opiniegroepen op de kaart',
    colGroup: 'Groep',
    colPeople: 'Deelnemers',
    colShare: 'Aandeel',
    colCentre: 'Midden (x, y)',
    colYou: 'U',
    yes: 'ja',
    no: 'nee',
    group: 'Groep {name}',
    groupSize: '{n} deelnemers ({pct})',
    groupsNone: 'Nog geen opiniegroepen.',
    groupsUpdated: 'Groepen bijgewerkt.',
    groupCaption: 'Stellingen die groep {name} kenmerken',
    colStatement: 'Stelling',
    colInGroup: 'Eens in groep {name}',
    colOthers: 'Eens buiten groep {name}',
    colInGroupShort: 'In {name}',
    colOthersShort: 'Anderen',
    standsOut: 'valt op door {how}',
    byAgreeing: 'het eens te zijn',
    byDisagreeing: 'het oneens te zijn',
    consensusAgree: 'De meeste mensen in elke groep zijn het eens',
    consensusDisagree: 'De meeste mensen in elke groep zijn het oneens',
    consensusNone: 'Nog geen gedeelde meningen.',
    consensusCaption: 'Instemming per groep',
    colAll: 'Iedereen',
    consensusUpdated: 'Gedeelde meningen bijgewerkt.',
    percentAgree: '{pct} eens',
    timelineLabel: 'Moment van het verslag',
    timelineLive: 'Live (nu)',
    timelineAt: '{when} · {votes} stemmen',
    timelineNone: 'Nog geen opgeslagen momenten; het live verslag wordt getoond.',
    timelineLiveButton: 'Toon live',
    printButton: 'Verslag afdrukken',
    snapshotShown: 'Het verslag van {when} wordt getoond.',
    liveShown: 'Het live verslag wordt getoond.',
    unknownStatement: 'Stelling {id}',
    reportPending: 'Het eerste verslag wordt berekend…',
  },
};

/** The supported language closest to a BCP 47 tag (default English). */
export function pick(tag) {
  const primary = String(tag || '').toLowerCase().split(/[-_]/)[0];
  return primary in STRINGS ? primary : 'en';
}

/** The language of an element: its own `lang`, the closest ancestor's, the document's. */
export function langOf(el) {
  const holder = el.closest('[lang]');
  return pick((holder && holder.getAttribute('lang')) || document.documentElement.lang || navigator.language);
}

/** A translated string with `{name}` placeholders filled in. */
export function t(lang, key, vars = {}) {
  const table = STRINGS[lang] || STRINGS.en;
  const text = table[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A percentage for display, e.g. "42%" / "42%". */
export function pct(lang, share) {
  return new Intl.NumberFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { style: 'percent', maximumFractionDigits: 0 }).format(share || 0);
}

/** A date and time for display. */
export function when(lang, ms) {
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

/** A number for display. */
export function num(lang, n) {
  return new Intl.NumberFormat(lang === 'nl' ? 'nl-NL' : 'en-GB').format(n || 0);
}

/** Group label: A, B, C, … */
export function groupName(index) {
  return String.fromCharCode(65 + (index % 26));
}

/** Human name of a language tag, in the page language. */
export function langName(lang, tag) {
  try {
    return new Intl.DisplayNames([lang], { type: 'language' }).of(tag) || tag;
  } catch {
    return tag;
  }
}
