/** The PII scanner: what it must find, and the look-alikes it must leave alone. */
import { describe, expect, it } from 'vitest';
import { findPii, type PiiType } from '../pipeline/pii/scanner.js';
import { sharedData } from './helpers/cli.js';

const found = (text: string) => findPii(text).map((m) => ({ type: m.type, value: text.slice(m.start, m.end), reserved: m.reserved }));
const types = (text: string): PiiType[] => findPii(text).map((m) => m.type);

describe('finds', () => {
  it.each([
    ['Write to jane.doe+news@mail.example.co.uk today.', 'email', 'jane.doe+news@mail.example.co.uk'],
    ['The server 84.17.203.9 answered.', 'ip', '84.17.203.9'],
    ['Reach 2a03:2880:f12f:83:face:b00c:0:25de for details.', 'ip', '2a03:2880:f12f:83:face:b00c:0:25de'],
    ['Call us at (415) 555-2671 now.', 'phone', '(415) 555-2671'],
    ['Tel: +44 20 7946 0958', 'phone', '+44 20 7946 0958'],
    ['Fax +49 30 57415745.', 'phone', '+49 30 57415745'],
    ['Appelez le 01 42 68 53 00 demain.', 'phone', '01 42 68 53 00'],
    ['Card: 4111 1111 1111 1111 exp 04/27', 'card', '4111 1111 1111 1111'],
    ['Card 378282246310005.', 'card', '378282246310005'],
    ['IBAN DE89 3704 0044 0532 0130 00 please.', 'iban', 'DE89 3704 0044 0532 0130 00'],
    ['SSN 123-45-6789 on file.', 'ssn', '123-45-6789'],
    ['my social security number is 078051120', 'ssn', '078051120'],
    ['aws_access_key_id=AKIAIOSFODNN7EXAMPLE', 'secret', 'AKIAIOSFODNN7EXAMPLE'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked', 'secret', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['slack xoxb-123456789012-abcdefghijkl here', 'secret', 'xoxb-123456789012-abcdefghijkl'],
  ])('%s', (text, type, value) => {
    expect(found(text)).toContainEqual(expect.objectContaining({ type, value }));
  });

  it('finds a JWT and a PEM private key block', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(types(`cookie: ${jwt}`)).toEqual(['secret']);
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\n-----END RSA PRIVATE KEY-----';
    expect(found(`key:\n${pem}\n`)).toEqual([{ type: 'secret', value: pem, reserved: undefined }]);
  });

  it('finds private and documentation addresses but marks them reserved', () => {
    expect(found('inet 10.41.21.72 and 192.0.2.1 and 8.8.8.8')).toEqual([
      { type: 'ip', value: '10.41.21.72', reserved: true },
      { type: 'ip', value: '192.0.2.1', reserved: true },
      { type: 'ip', value: '8.8.8.8', reserved: false },
    ]);
  });
});

describe('national phone numbers labelled by the text around them', () => {
  it.each([
    ["They're not answering at 71-33-52-22", '71-33-52-22'],
    ['They are not answering at 374 780 163', '374 780 163'],
    ['I would like to stop receiving messages to 46 218 907', '46 218 907'],
    ['Name: Ana Lima\nPhone: 32 4471906', '32 4471906'],
    ['Mobile: 723 813 266\nDesk: (602)272-9781', '723 813 266'],
    ['Hotel Kaevu\n28-64-66-98 office\n930.167.3943 fax', '28-64-66-98'],
    ['Can someone call me on 55 12 80 34? I have some questions.', '55 12 80 34'],
    ['Contact us at 612 904 377.', '612 904 377'],
    ['Telefon: 040 / 49 07 11 06', '49 07 11 06'],
    ['Tél : 71 341 066', '71 341 066'],
    ['Llámenos al teléfono 912 345 678.', '912 345 678'],
  ])('%s', (text, value) => {
    expect(found(text)).toContainEqual(expect.objectContaining({ type: 'phone', value }));
  });

  it('splits a list of numbers read as one', () => {
    expect(found('try one of these phones 052 5552606 074-7111234').map((m) => m.value)).toEqual(['052 5552606', '074-7111234']);
    expect(found('Tel 01 42 68 53 00 06 12 34 56 78').map((m) => m.value)).toEqual(['01 42 68 53 00', '06 12 34 56 78']);
  });

  it.each([
    ['without a label', 'Results: 71-33-52-22 and 374 780 163, then 46 218 907 and 32 4471906.'],
    ['labelled as identifiers', 'Order number 374 780 163 shipped; your account number is 12 345 678; tracking number 71-33-52-22.'],
    ['an identifier nearer than the phone word', 'Call us about invoice 28-64-66-98 or order 612 904 377.'],
    ['counts after a weak label', 'We registered 12 500 000 visitors; population number 46 218 907.'],
    ['amounts and units after a phone word', 'Call now: only $1 299 000; our phone bill was 1 234 567,89 €; Call of Duty sold 25 000 000 copies.'],
    ['dates after a phone word', 'Phone: born 12 05 1990; call before 25-12-2024 or 2024-05-01.'],
    ['decimals and coordinates after a phone word', 'Call at 48.858370, 2.294481; mobile sales rose 12.5 percent.'],
    ['a label that belongs to an earlier number', 'Phone 0, then the results 71-33-52-22.'],
    ['a phone word far before', 'Phone ahead, then after a long walk across the old town you reach 374 780 163.'],
    ['the card number read over the phone', 'He read the card number 4111 1111 1111 1112 over the phone.'],
    ['a calendar after a phone word', 'Call days: 12 13 14 15 16 17'],
  ])('not %s', (_what, text) => {
    expect(found(text).filter((m) => m.type === 'phone')).toEqual([]);
  });
});

describe('leaves look-alikes alone', () => {
  it.each([
    ['version numbers', 'Upgrade to v1.2.3.4 or version 10.0.19041.1 and Chrome 120.0.6099.109; node 20.20.2.'],
    ['dates and times', 'On 2024-05-01 at 12:30:45, and 01/05/2024, 5.1.2024, 1999-12-31 23:59:59Z.'],
    ['ISBNs', 'ISBN 978-3-16-148410-0 and ISBN-10 0-306-40615-2 and 9780306406157.'],
    ['prices and quantities', 'It costs $1,299.99 or €1.299,99; 3,141,592 people; 12 500 000 inhabitants; 1 234 567,89 €.'],
    ['coordinates', 'At 48.8584° N, 2.2945° E (48.858370, 2.294481) or -33.8688, 151.2093.'],
    ['math', 'We have 3.14159 × 2.71828 = 8.53973 and 1/3 + 2/3 = 1, x = 10^12, 2^32 = 4294967296.'],
    ['code', 'for (let i = 0; i < 1000000; i++) { a[i] = i * 31 % 65537; } // 0x7fffffff, 1e-9'],
    ['UUIDs', 'id 123e4567-e89b-12d3-a456-426614174000 and {6ba7b810-9dad-11d1-80b4-00c04fd430c8}.'],
    ['hashes', 'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 md5 d41d8cd98f00b204e9800998ecf8427e commit 4a3bc979f76c.'],
    ['times and scores', 'The match ended 3:2 at 21:45:00; 10:30-11:45 slot; ratio 16:9.'],
    ['years and page ranges', 'Between 1914 1918 and 1939 1945, see pages 123-145 and 2021 2022 2023.'],
    ['street addresses and postcodes', 'Ship to 1600 Amphitheatre Parkway, Mountain View, CA 94043, or 10 Downing Street, SW1A 2AA.'],
    ['phone-shaped IDs without context', 'Order 2019-0042-1187 shipped; ticket #5403926876; tracking 1Z999AA10123456784.'],
    ['a calendar', 'Mo Tu We Th Fr Sa Su\n1 2 3 4 5 6 7\n8 9 10 11 12 13 14\n15 16 17 18 19 20 21'],
    ['handles and MAC addresses', 'Follow @LearnonScreen; MAC 00:1A:2B:3C:4D:5E; fe80 is link-local.'],
    ['a Luhn-failing card-like number', 'Account 4111 1111 1111 1112 is closed.'],
    ['an invalid IBAN', 'Reference GB00 ABCD 1234 5678 9012 34.'],
  ])('%s', (_what, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe.skipIf(!sharedData())('accuracy on the labelled sets in ../shared/data', () => {
  it('meets the targets per type', async () => {
    const { scorePii } = await import('../bench/pii-accuracy.js');
    const by = new Map(scorePii().map((s) => [s.type, s]));
    for (const t of ['email', 'ip'] as const) {
      expect(by.get(t)?.recall, t).toBeGreaterThanOrEqual(0.99);
      expect(by.get(t)?.precision, t).toBeGreaterThanOrEqual(0.95);
    }
    for (const t of ['phone', 'card'] as const) {
      expect(by.get(t)?.recall, t).toBeGreaterThanOrEqual(0.9);
      expect(by.get(t)?.precision, t).toBeGreaterThanOrEqual(0.9);
    }
    expect(by.get('phone')?.gold).toBeGreaterThan(60);
  });
});
