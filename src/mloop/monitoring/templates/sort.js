// Sorts a table of the report by the clicked header: numbers (data-v) as numbers, the rest
// as text. The page's Content-Security-Policy allows this script by its hash alone.
function key(c){var v=c.getAttribute("data-v");if(v===null)v=c.textContent;
var n=parseFloat(v);return isNaN(n)?v.toLowerCase():n;}
document.querySelectorAll("table.sortable").forEach(function(t){
var hs=t.querySelectorAll("th");hs.forEach(function(th,i){
th.querySelector("button").addEventListener("click",function(){
var up=th.getAttribute("aria-sort")!=="ascending",b=t.tBodies[0],rs=Array.from(b.rows);
hs.forEach(function(h){h.removeAttribute("aria-sort");});
th.setAttribute("aria-sort",up?"ascending":"descending");
rs.sort(function(p,q){var x=key(p.cells[i]),y=key(q.cells[i]);
var r=typeof x===typeof y?(x<y?-1:x>y?1:0):(typeof x==="number"?-1:1);return up?r:-r;});
rs.forEach(function(r){b.appendChild(r);});});});});
