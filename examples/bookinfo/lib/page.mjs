// productpage's HTML: the original's templates (index.html, productpage.html) as template literals, with the
// same structure, texts and classes (tools that grep the page for `glyphicon-star` or `color="red"` still work).

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text to put into HTML (Jinja's autoescape). */
export const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);

function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="static/bookinfo.css">
</head>
<body>
${body}
</body>
</html>
`;
}

/** `/`: what the app is made of, and links to the product page. */
export function renderIndex(services) {
  const rows = services
    .map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.url)}</td><td>${escapeHtml(s.calls.join(', '))}</td></tr>`)
    .join('\n');
  return layout(
    'Simple Bookstore App',
    `<main class="container">
<h3 class="text-center text-primary">Hello! This is a simple bookstore application consisting of three services as shown below</h3>
<table class="table">
<tr><th>service</th><th>address</th><th>calls</th></tr>
${rows}
</table>
<p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
<p><a href="productpage?u=normal">Normal user</a></p>
<p><a href="productpage?u=test">Test user</a></p>
</main>`,
  );
}

/**
 * `/productpage`: the book, its details and its reviews, or the error texts in their place.
 * `details` and `reviews` are the JSON the services answered (or `{ error }`), with their statuses.
 */
export function renderProductPage({ product, user, detailsStatus, details, reviewsStatus, reviews }) {
  return layout(
    'Simple Bookstore App',
    `${navbar(user)}
<main class="container">
<div class="row">
<div class="col-md-12">
<h3 class="text-center text-primary">${escapeHtml(product.title)}</h3>
<p>Summary: ${product.descriptionHtml}</p>
</div>
</div>
<div class="row">
<div class="col-md-6 details">
${detailsStatus === 200 ? detailsHtml(details) : errorHtml('Error fetching product details!', details)}
</div>
<div class="col-md-6 reviews">
${reviewsStatus === 200 ? reviewsHtml(reviews) : errorHtml('Error fetching product reviews!', reviews)}
</div>
</div>
</main>`,
  );
}

function navbar(user) {
  const right = user
    ? `<p class="navbar-text navbar-right"><i class="glyphicon glyphicon-user" aria-hidden="true"></i>
<span class="user">${escapeHtml(user)}</span> ( <a href="logout">sign out</a> )</p>`
    : `<form class="navbar-right" method="post" action="login" name="login_form">
<input type="text" name="username" id="username" placeholder="User Name">
<input type="password" name="passwd" placeholder="Password">
<button type="submit">Sign in</button>
</form>`;
  return `<nav class="navbar">
<div class="container">
<a class="navbar-brand" href="#">BookInfo Sample</a>
${right}
</div>
</nav>`;
}

function detailsHtml(d) {
  const row = (label, value) => `<dt>${label}:</dt><dd>${escapeHtml(value)}</dd>`;
  return `<h4 class="text-center text-primary">Book Details</h4>
<dl>
${row('Type', d.type)}
${row('Pages', d.pages)}
${row('Publisher', d.publisher)}
${row('Language', d.language)}
${row('ISBN-10', d['ISBN-10'])}
${row('ISBN-13', d['ISBN-13'])}
</dl>`;
}

function reviewsHtml(r) {
  const served = r.podname ? `\n<dl><dt>Reviews served by:</dt><dd class="podname">${escapeHtml(r.podname)}</dd></dl>` : '';
  return `<h4 class="text-center text-primary">Book Reviews</h4>
${(r.reviews ?? []).map(reviewHtml).join('\n')}${served}`;
}

function reviewHtml(review) {
  return `<blockquote>
<p>${escapeHtml(review.text)}</p>
<small>${escapeHtml(review.reviewer)}</small>
${ratingHtml(review.rating)}</blockquote>`;
}

function ratingHtml(rating) {
  if (!rating) return '';
  if (rating.stars) {
    const stars = Math.max(0, Math.min(5, Number(rating.stars) || 0));
    const full = '<span class="glyphicon glyphicon-star"></span>\n'.repeat(stars);
    const empty = '<span class="glyphicon glyphicon-star-empty"></span>\n'.repeat(5 - stars);
    return `<font color="${escapeHtml(rating.color)}">\n${full}${empty}</font>\n`;
  }
  return rating.error ? `<p><i>${escapeHtml(rating.error)}</i></p>\n` : '';
}

function errorHtml(heading, body) {
  return `<h4 class="text-center text-primary">${heading}</h4>${body?.error ? `\n<p>${escapeHtml(body.error)}</p>` : ''}`;
}
