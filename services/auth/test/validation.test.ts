import { expect } from 'chai';
import { InvalidFieldError } from '@orderbook/server-kit';
import {
  validEmail,
  validId,
  validLogin,
  validNewPassword,
  validPasswordInput,
  validRefreshToken,
  validUsername,
  WeakPasswordError,
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

  describe('new password (NIST SP 800-63B: length and a blocklist, no composition rules)', () => {
    it('accepts 12 to 72 bytes of UTF-8, whatever the characters', () => {
      for (const password of ['all lower case', 'a'.repeat(71) + 'b', 'éèêëēė', '😀🎉🚀✨💡🔥', `${'€'.repeat(23)}$`, 'correct horse battery staple']) {
        expect(validNewPassword(password)).to.equal(password);
      }
    });

    it('counts bytes, not characters', () => {
      expect(problem(() => validNewPassword('é'.repeat(37)))).to.match(/^password: .*at most 72 bytes/);
      expect(problem(() => validNewPassword('€'.repeat(25)))).to.match(/at most 72 bytes/);
      expect(problem(() => validNewPassword(`${'a'.repeat(71)}é`))).to.match(/at most 72 bytes/);
      expect(problem(() => validNewPassword('éééééé'.slice(0, 5)))).to.match(/at least 12 bytes/);
      expect(problem(() => validNewPassword('elevenbytes'))).to.match(/at least 12 bytes/);
    });

    it('rejects empty, short, long, huge and NUL-containing passwords without echoing them', () => {
      const cases = ['', 'a 11-byte p', 'a'.repeat(73), 'x'.repeat(10_000), 'pass\0word-long'];
      for (const password of cases) {
        const message = problem(() => validNewPassword(password));
        expect(message).to.match(/^password: /);
        if (password.length > 0) expect(message).not.to.include(password);
      }
    });

    it('rejects passwords from the bundled common-password list, in any case', () => {
      for (const password of ['qwertyuiop123', 'Password1234', '1QAZ2WSX3EDC', '123456789012']) {
        expect(() => validNewPassword(password), password).to.throw(WeakPasswordError, /^password: is on the list of common passwords/);
      }
    });

    it('rejects a short pattern repeated', () => {
      for (const password of ['aaaaaaaaaaaa', 'abababababab', 'abcabcabcabc', '😀😀😀😀😀😀']) {
        expect(() => validNewPassword(password), password).to.throw(WeakPasswordError, /short pattern repeated/);
      }
    });

    it('rejects the username, the email address and its local part', () => {
      const context = { username: 'Longusername', email: 'someone.long@example.com' };
      for (const password of ['longUSERNAME', 'someone.long@example.com', 'Someone.Long']) {
        expect(() => validNewPassword(password, 'password', context), password).to.throw(WeakPasswordError, /username or the email/);
      }
      expect(validNewPassword('longusername!', 'password', context)).to.equal('longusername!');
    });
  });

  describe('presented password and login', () => {
    it('only bounds the input', () => {
      expect(validPasswordInput('x')).to.equal('x');
      expect(validLogin('whoever')).to.equal('whoever');
      expect(problem(() => validLogin(''))).to.match(/^login: /);
      expect(problem(() => validLogin('x'.repeat(10_000)))).to.match(/^login: /);
      expect(problem(() => validPasswordInput(''))).to.match(/^password: /);
      expect(problem(() => validPasswordInput('x'.repeat(73)))).to.match(/^password: /);
      expect(problem(() => validPasswordInput('a\0b', 'current_password'))).to.match(/^current_password: /);
    });
  });

  describe('ids', () => {
    it('accepts UUIDs as issued, names the field otherwise', () => {
      expect(validId('0b7c4d0e-3f7a-4a3e-9b1c-2d4e6f8a0b1c', 'user_id')).to.equal('0b7c4d0e-3f7a-4a3e-9b1c-2d4e6f8a0b1c');
      for (const bad of ['', 'x', '0B7C4D0E-3F7A-4A3E-9B1C-2D4E6F8A0B1C', "' OR 1=1 --"]) expect(problem(() => validId(bad, 'user_id'))).to.match(/^user_id: /);
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
