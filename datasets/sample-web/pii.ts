/**
 * Personal data and secrets planted in sample pages, each value valid for its kind
 * (Luhn-checked card numbers, mod-97 IBANs, public IP addresses, plausible phone numbers)
 * so that a detector is measured on what it should find. The values are synthetic.
 */
import type { Random } from '../../pipeline/core/random.js';

export type PiiType = 'email' | 'phone' | 'ipv4' | 'ipv6' | 'credit_card' | 'iban' | 'us_ssn' | 'aws_access_key' | 'github_token' | 'jwt' | 'private_key';

export interface PlantedPii {
  type: PiiType;
  value: string;
}

const FIRST = ['james', 'maria', 'wei', 'fatima', 'olga', 'carlos', 'aisha', 'john', 'yuki', 'priya', 'lars', 'amara'];
const LAST = ['smith', 'garcia', 'chen', 'khan', 'ivanova', 'silva', 'okafor', 'miller', 'tanaka', 'patel', 'berg', 'nwosu'];
const MAIL = ['gmail.com', 'yahoo.com', 'outlook.com', 'fastmail.fm', 'proton.me', 'web.de', 'gmx.net'];

function luhnComplete(prefix: string, length: number, random: Random): string {
  let digits = prefix + random.digits(length - prefix.length - 1);
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  digits += String((10 - (sum % 10)) % 10);
  return digits;
}

function ibanCheck(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of rearranged) rem = (rem * 10 + Number(ch)) % 97;
  return String(98 - rem).padStart(2, '0');
}

const group4 = (s: string) => s.replace(/(.{4})/g, '$1 ').trim();
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const chars = (random: Random, alphabet: string, n: number) => Array.from({ length: n }, () => random.pick([...alphabet])).join('');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

export function makePii(type: PiiType, random: Random): string {
  switch (type) {
    case 'email':
      return `${random.pick(FIRST)}.${random.pick(LAST)}${random.chance(0.5) ? random.int(1, 99) : ''}@${random.pick(MAIL)}`;
    case 'phone': {
      const style = random.int(0, 3);
      if (style === 0) return `(${random.pick(['212', '415', '617', '312', '206', '303'])}) ${random.int(201, 989)}-${random.digits(4)}`;
      if (style === 1) return `+44 20 ${random.int(7100, 8999)} ${random.digits(4)}`;
      if (style === 2) return `+49 30 ${random.int(2000, 9999)}${random.digits(4)}`;
      return `+33 1 ${random.int(40, 59)} ${random.digits(2)} ${random.digits(2)} ${random.digits(2)}`;
    }
    case 'ipv4':
      return `${random.pick([23, 45, 62, 78, 91, 109, 151, 185, 193, 212])}.${random.int(1, 254)}.${random.int(0, 254)}.${random.int(1, 254)}`;
    case 'ipv6':
      return `2a0${random.int(0, 9)}:${random.int(0x1000, 0xffff).toString(16)}:${random.int(0, 0xffff).toString(16)}::${random.int(1, 0xffff).toString(16)}`;
    case 'credit_card': {
      const [prefix, length] = random.pick([['4', 16], ['51', 16], ['55', 16], ['37', 15]] as const);
      const number = luhnComplete(prefix, length, random);
      return random.chance(0.5) ? group4(number) : number;
    }
    case 'iban': {
      if (random.chance(0.5)) {
        const bban = random.digits(18);
        return group4(`DE${ibanCheck('DE', bban)}${bban}`);
      }
      const bban = `${chars(random, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4)}${random.digits(14)}`;
      return group4(`GB${ibanCheck('GB', bban)}${bban}`);
    }
    case 'us_ssn':
      return `${String(random.int(101, 665)).padStart(3, '0')}-${String(random.int(1, 99)).padStart(2, '0')}-${String(random.int(1, 9999)).padStart(4, '0')}`;
    case 'aws_access_key':
      return `AKIA${chars(random, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
    case 'github_token':
      return `ghp_${chars(random, ALNUM, 36)}`;
    case 'jwt':
      return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: random.digits(8), name: random.pick(FIRST), iat: 1714000000 + random.int(0, 1e6) }))}.${chars(random, `${ALNUM}-_`, 43)}`;
    case 'private_key': {
      const lines = Array.from({ length: 6 }, () => chars(random, `${ALNUM}+/`, 64));
      return `-----BEGIN RSA PRIVATE KEY-----\n${lines.join('\n')}\n-----END RSA PRIVATE KEY-----`;
    }
  }
}

const CONTEXT: Record<PiiType, string[]> = {
  email: ['For questions, write to {v}.', 'You can reach me at {v} if you want the full list.', 'Send corrections to {v} before Friday.'],
  phone: ['Call us at {v} between nine and five.', 'Reservations are taken by phone at {v}.', 'Leave a message at {v} and we will call back.'],
  ipv4: ['The server at {v} stopped answering last night.', 'All of the spam came from {v}.'],
  ipv6: ['The new gateway listens on {v} now.'],
  credit_card: ['My card number is {v}, please charge it again.', 'He read the card number {v} over the phone.'],
  iban: ['Please transfer the fee to IBAN {v}.', 'Donations go to account {v}.'],
  us_ssn: ['Her social security number, {v}, was printed on the form.', 'SSN {v} appears on the old application.'],
  aws_access_key: ['Someone committed aws_access_key_id = {v} to the public repository.'],
  github_token: ['The deploy script still contains the token {v} in plain text.'],
  jwt: ['The session cookie held {v} until logout.'],
  private_key: ['The backup folder contained this key:\n{v}'],
};

export const PII_TYPES = Object.keys(CONTEXT) as PiiType[];

/** A sentence with one planted value, and the value. */
export function piiSentence(type: PiiType, random: Random): { sentence: string; pii: PlantedPii } {
  const value = makePii(type, random);
  return { sentence: random.pick(CONTEXT[type]).replace('{v}', value), pii: { type, value } };
}
