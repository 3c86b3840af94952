// Synthetic but realistic people for the benchmarks: accented names, several offices, optional phones, a few
// people with no mail (UPN only). Seeded, so every run and every machine builds the same data.

const GIVEN_NAMES =
  "José|Zoë|Françoise|Łukasz|Jürgen|Siobhán|Ørjan|Renée|Thảo|Øystein|Ana|Björn|Chloé|Dmitrij|Élodie|Fatima|Gaëlle|Håkon|Inès|Jan|Kateřina|Leïla|Mário|Noémie|Oğuz|Paweł|Quentin|Raúl|Sérgio|Tomás|Ulrike|Vítor|Wojciech|Xavière|Yannick|Zdeněk|Michael|Sarah|David|Emily|Wei|Priya|Mohammed|Olivia|Liam".split(
    "|",
  );
const SURNAMES =
  "Müller|Núñez|O'Brien|Ångström|Dvořák|Côté|Smith|Nguyễn|García|Šimek|Lefèvre|Kowalczyk|Björklund|Çelik|Gauthier|Hernández|Ibáñez|Jørgensen|Köhler|López|Martín|Nováková|Østergaard|Pérez|Quiñones|Rodríguez|Søndergaard|Tremblay|Vázquez|Wiśniewski|Żak|Brown|Wilson|Chen|Patel|Khan|Taylor|Roy|Gagnon|Bouchard".split(
    "|",
  );
const TITLES =
  "Software Engineer|Ingénieure logicielle|Directeur financier|Account Manager|Chargée de projet|Senior Analyst|Gerente de operações|Technicien de maintenance|Product Owner|HR Business Partner|Abteilungsleiterin Einkauf|Receptionist|Data Scientist|Responsable sécurité|Legal Counsel".split(
    "|",
  );
const DEPARTMENTS =
  "Engineering|Finance|Ventes|Ressources humaines|Opérations|Legal|Marketing|Einkauf|Facilities|Research & Development|Service à la clientèle|IT".split(
    "|",
  );
/** City OU (may hold accents), office-code prefix (physicalDeliveryOfficeName), iLobby site, phone prefix. */
export const OFFICES = [
  { ou: "Toronto", code: "TOR", site: "Toronto", phone: "+1 416 555" },
  { ou: "Montréal", code: "MTL", site: "Montréal", phone: "+1 514 555" },
  { ou: "Paris", code: "PAR", site: "Paris", phone: "+33 1 55 55" },
  { ou: "München", code: "MUC", site: "München", phone: "+49 89 5555" },
  { ou: "São Paulo", code: "SAO", site: "São Paulo", phone: "+55 11 5555" },
];
export const DOMAIN = "corp.example.test";

/** mulberry32: a tiny deterministic PRNG (Math.random cannot be seeded). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (random, list) => list[Math.floor(random() * list.length)];
const digits = (random, count) => Array.from({ length: count }, () => Math.floor(random() * 10)).join("");

/** Accents stripped and spaces/apostrophes dropped, as mail and account names usually are. */
export function asciiName(text) {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[ł]/g, "l")
    .replace(/[Ł]/g, "L")
    .replace(/[ø]/g, "o")
    .replace(/[Ø]/g, "O")
    .replace(/[^A-Za-z]/g, "");
}

/** Person number `index` (0-based): the same index always gives the same person. */
export function makePerson(random, index) {
  const givenName = pick(random, GIVEN_NAMES);
  const surname = pick(random, SURNAMES);
  const office = pick(random, OFFICES);
  const account = `${asciiName(givenName).slice(0, 1)}${asciiName(surname)}${index}`.toLowerCase();
  // Mixed case, as AD often stores it; iLobby compares EMAIL case-insensitively.
  const mail = `${asciiName(givenName)}.${asciiName(surname)}.${index}@${DOMAIN}`;
  return {
    index,
    givenName,
    surname,
    office,
    account,
    title: pick(random, TITLES),
    department: pick(random, DEPARTMENTS),
    // 2% have no mail attribute: the mapping falls back to userPrincipalName.
    mail: random() < 0.02 ? undefined : mail,
    userPrincipalName: `${account}@${DOMAIN}`,
    mobile: random() < 0.7 ? `+1 ${digits(random, 3)} ${digits(random, 3)} ${digits(random, 4)}` : undefined,
    telephone: random() < 0.9 ? `${office.phone} ${digits(random, 4)}` : undefined,
    officeName: `${office.code}-${1 + Math.floor(random() * 4)}`,
    // 10% disabled (ACCOUNTDISABLE, bit 2); some enabled accounts carry DONT_EXPIRE_PASSWORD (65536) too.
    userAccountControl: random() < 0.1 ? 514 : random() < 0.3 ? 66048 : 512,
  };
}
