// Bookinfo's details service (the original is Ruby): the book's type, pages, publisher and ISBNs.
import { sendJson, sendText, serve } from './lib/service.mjs';

if (process.env.ENABLE_EXTERNAL_BOOK_SERVICE === 'true') {
  // The original can fetch the details from Google Books through an egress rule; this port can't, and says so.
  console.error('details: ENABLE_EXTERNAL_BOOK_SERVICE is not supported here; serving the built-in details');
}

serve('details', (req, res, url) => {
  if (url.pathname === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
  // Like the original's mount on /details: the last path segment is the product id.
  if (url.pathname === '/details' || url.pathname.startsWith('/details/')) {
    const last = url.pathname.split('/').filter(Boolean).at(-1);
    if (!/^[+-]?\d+$/.test(last)) return sendJson(res, 400, { error: 'please provide numeric product id' });
    return sendJson(res, 200, bookDetails(Number(last)));
  }
  sendText(res, 404, 'Not Found\n');
});

function bookDetails(id) {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}
