import { expect } from 'chai';
import { InvalidFieldError } from '@orderbook/server-kit';
import {
  validEmail,
  validNewPassword,
  validRefreshToken,
  validSignIn,
  validUsername,
} from '../src/validation';

function problem(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidFieldError);
    return (err as Error).message;
  }
  return expect.fail('accepted');
}

describe('validation', () => {
  describe('username', () => {
    it('accepts 3 to 32 ASCII letters, digits, "_", "." and "-" starting with a letter or digit', () => {
      for (const name of ['abc', 'A.b-c_d', '0day', 'x'.repeat(32), 'Bob']) expect(validUsername(name)).to.equal(name);
    });

    it('rejects bad usernames, naming the field', () => {
      for (const name of ['', 'ab', 'x'.repeat(33), '_abc', '.abc', '-abc', 'a b', 'a@b', 'аdmin', 'admin\u200b', 'ａｄｍｉｎ', 'adm\0in', 'admin\n']) {
        expect(problem(() => validUsername(name)), JSON.stringify(name)).to.match(/^username: /);
      }
    });

    it('reports the field it was given (for config variables)', () => {
      expect(problem(() => validUsername('x', 'AUTH_ADMIN_USERNAME'))).to.match(/^AUTH_ADMIN_USERNAME: /);
    });
  });

  describe('email', () => {
    it('accepts ordinary addresses and lower-cases them', () => {
      expect(validEmail('Alice.Smith+tag@Example.COM')).to.equal('alice.smith+tag@example.com');
      expect(validEmail('a@b.co')).to.equal('a@b.co');
      expect(validEmail('x@xn--p1ai.xn--p1ai')).to.equal('x@xn--p1ai.xn--p1ai');
    });

    it('accepts up to 254 characters and a 64-character local part', () => {
      const address = `${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.com`;
      expect(address).to.have.length(254);
      expect(validEmail(address)).to.equal(address);
    });

    it('rejects malformed addresses, naming the field', () => {
      const bad = [
        '',
        'plain',
        '@example.com',
        'a@',
        'a@b',
        'a@@b.com',
        'a@b@c.com',
        'a b@example.com',
        'a@exa mple.com',
        ' a@example.com',
        'a@example.com\n',
        'a..b@example.com',
        '.a@example.com',
        'a.@example.com',
        'a@-example.com',
        'a@example-.com',
        'a@example..com',
        'a@example.123',
        'ü@example.com',
        'a@exämple.com',
        'a@exаmple.com',
        `${'l'.repeat(65)}@example.com`,
        `a@${'d'.repeat(64)}.com`,
        `${'x'.repeat(10_000)}@example.com`,
      ];
      for (const address of bad) expect(problem(() => validEmail(address)), JSON.stringify(address)).to.match(/^email: /);
    });
  });

  describe('new password', () => {
    it('accepts 8 to 72 bytes of UTF-8', () => {
      for (const password of ['12345678', 'a'.repeat(72), 'é'.repeat(36), '😀'.repeat(18), '€'.repeat(24)]) {
        expect(validNewPassword(password)).to.equal(password);
      }
    });

    it('counts bytes, not characters', () => {
      expect(problem(() => validNewPassword('é'.repeat(37)))).to.match(/^password: .*at most 72 bytes/);
      expect(problem(() => validNewPassword('€'.repeat(25)))).to.match(/at most 72 bytes/);
      expect(problem(() => validNewPassword(`${'a'.repeat(71)}é`))).to.match(/at most 72 bytes/);
      expect(problem(() => validNewPassword('ééé'))).to.match(/at least 8 bytes/);
    });

    it('rejects empty, short, long, huge and NUL-containing passwords without echoing them', () => {
      const cases = ['', '1234567', 'a'.repeat(73), 'x'.repeat(10_000), 'pass\0word-long'];
      for (const password of cases) {
        const message = problem(() => validNewPassword(password));
        expect(message).to.match(/^password: /);
        if (password.length > 0) expect(message).not.to.include(password);
      }
    });
  });

  describe('sign-in', () => {
    it('only bounds the input', () => {
      expect(validSignIn('whoever', 'x')).to.deep.equal({ login: 'whoever', password: 'x' });
      expect(problem(() => validSignIn('', 'x'))).to.match(/^login: /);
      expect(problem(() => validSignIn('x'.repeat(10_000), 'x'))).to.match(/^login: /);
      expect(problem(() => validSignIn('bob', ''))).to.match(/^password: /);
      expect(problem(() => validSignIn('bob', 'x'.repeat(73)))).to.match(/^password: /);
      expect(problem(() => validSignIn('bob', 'a\0b'))).to.match(/^password: /);
    });
  });

  describe('refresh token', () => {
    it('accepts 43 base64url characters only', () => {
      const token = 'A'.repeat(42) + '_';
      expect(validRefreshToken(token)).to.equal(token);
      for (const bad of ['', 'short', 'A'.repeat(44), `${'A'.repeat(42)}=`, `${'A'.repeat(42)}+`, 'x'.repeat(10_000)]) {
        expect(problem(() => validRefreshToken(bad))).to.match(/^refresh_token: /);
      }
    });
  });
});
